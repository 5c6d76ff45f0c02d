//! Principals and their memberships in one open-addressed table of cache
//! lines, so that a decision at a million memberships touches one cache
//! line it may not have: the principal's line holds its hash tag and,
//! when it fits (a short name and a few memberships — nearly every
//! principal), the whole record: the name (to confirm the match), the
//! account state, the global permission class and every membership as
//! (organization, class) pairs sorted by organization. A record that does
//! not fit lives in a side array the line points to (one more line).
//! Permission and role sets live once per class (distinct combination of
//! roles and grants), not once per membership.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

/// Bytes before a record's name: name length, membership count, global
/// class, state index.
const HEADER: usize = 16;

/// One principal as the builder hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonData {
    pub(crate) name: String,
    pub(crate) state: u32,
    pub(crate) global: u32,
    /// (organization, class), sorted by organization, one per organization.
    pub(crate) memberships: Vec<(u32, u32)>,
}

/// One slot of the table: a cache line.
///
/// Bytes 0..4 are the hash tag; bytes 4..8 say what the slot holds: 0 for
/// nothing, `INLINE | length` for a record in bytes 8..64, or `offset / 4
/// + 1` for a record in the side array.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// Bytes of a record a line holds itself.
const INLINE_MAX: usize = 56;
const INLINE: u32 = 1 << 31;

impl Line {
    const EMPTY: Line = Line([0; 64]);

    fn tag(&self) -> u32 {
        read_u32(&self.0, 0)
    }

    fn info(&self) -> u32 {
        read_u32(&self.0, 4)
    }
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Line")
            .field("tag", &self.tag())
            .field("info", &self.info())
            .finish()
    }
}

/// The table and the records that do not fit in their line.
#[derive(Debug, Clone, Default)]
pub(crate) struct People {
    lines: Vec<Line>,
    records: Vec<u8>,
    len: usize,
}

/// A principal's record, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Person<'a> {
    record: &'a [u8],
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

pub(crate) fn hash(name: &str) -> u64 {
    // Fx then a multiply-shift: Fx alone mixes its low bits poorly.
    FxBuildHasher
        .hash_one(name)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl<'a> Person<'a> {
    /// A record as [`encode`] wrote it.
    pub(crate) fn from_record(record: &'a [u8]) -> Self {
        Self { record }
    }

    fn name_len(&self) -> usize {
        read_u32(self.record, 0) as usize
    }

    fn count(&self) -> usize {
        read_u32(self.record, 4) as usize
    }

    pub(crate) fn name(&self) -> &'a str {
        std::str::from_utf8(self.name_bytes()).unwrap_or_default()
    }

    /// The name's bytes: what a lookup compares, with no UTF-8 check (the
    /// record was encoded from a `str`).
    fn name_bytes(&self) -> &'a [u8] {
        let n = self.name_len();
        self.record.get(HEADER..HEADER + n).unwrap_or_default()
    }

    /// The class of the principal's global permissions.
    pub(crate) fn global(&self) -> u32 {
        read_u32(self.record, 8)
    }

    /// The index of the account state.
    pub(crate) fn state(&self) -> u32 {
        read_u32(self.record, 12)
    }

    fn pairs_at(&self) -> usize {
        (HEADER + self.name_len()).next_multiple_of(4)
    }

    /// The class of the membership in `org`, if any.
    pub(crate) fn membership(&self, org: u32) -> Option<u32> {
        let at = self.pairs_at();
        let (mut lo, mut hi) = (0usize, self.count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let o = read_u32(self.record, at + mid * 8);
            match o.cmp(&org) {
                std::cmp::Ordering::Equal => return Some(read_u32(self.record, at + mid * 8 + 4)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// Every membership: (organization, class), by organization.
    pub(crate) fn memberships(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let at = self.pairs_at();
        let record = self.record;
        (0..self.count()).map(move |i| {
            (
                read_u32(record, at + i * 8),
                read_u32(record, at + i * 8 + 4),
            )
        })
    }

    /// The whole record, back as data.
    pub(crate) fn to_data(self) -> PersonData {
        PersonData {
            name: self.name().to_owned(),
            state: self.state(),
            global: self.global(),
            memberships: self.memberships().collect(),
        }
    }
}

/// Appends `p`'s record to `out` (4-byte aligned), returning its offset.
pub(crate) fn encode(p: &PersonData, out: &mut Vec<u8>) -> usize {
    let at = out.len().next_multiple_of(4);
    out.resize(at, 0);
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    for w in [
        len(p.name.len()),
        len(p.memberships.len()),
        p.global,
        p.state,
    ] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(p.name.as_bytes());
    out.resize(out.len().next_multiple_of(4), 0);
    for (o, c) in &p.memberships {
        out.extend_from_slice(&o.to_le_bytes());
        out.extend_from_slice(&c.to_le_bytes());
    }
    at
}

/// Appends an encoded `record` to `out` (4-byte aligned), returning its
/// offset.
fn encode_raw(record: &[u8], out: &mut Vec<u8>) -> usize {
    let at = out.len().next_multiple_of(4);
    out.resize(at, 0);
    out.extend_from_slice(record);
    at
}

/// The tag of a hash: 32 bits mostly apart from the high ones that pick
/// the line (the multiply leaves the lowest bits poorly mixed).
fn tag_of(h: u64) -> u32 {
    (h >> 8) as u32
}

/// The length of the record at `at`.
fn record_len(records: &[u8], at: usize) -> usize {
    let name = read_u32(records, at) as usize;
    let count = read_u32(records, at + 4) as usize;
    (HEADER + name).next_multiple_of(4) + count * 8
}

impl People {
    /// The table of `people` (names distinct).
    pub(crate) fn build(people: impl ExactSizeIterator<Item = PersonData>) -> Self {
        let n = people.len();
        // At most 4/5 full: a miss probes few lines, and adjacent lines are
        // what the hardware prefetches anyway.
        let size = (n + n / 4 + 1).next_power_of_two().max(8);
        let mut t = Self {
            lines: vec![Line::EMPTY; size],
            records: Vec::new(),
            len: 0,
        };
        let mut record = Vec::with_capacity(INLINE_MAX);
        for p in people {
            record.clear();
            encode(&p, &mut record);
            t.place(&p.name, &record);
        }
        t.records.shrink_to_fit();
        t
    }

    fn place(&mut self, name: &str, record: &[u8]) {
        let h = hash(name);
        let mask = self.lines.len() - 1;
        let mut i = (h >> 32) as usize & mask;
        let mut line = Line::EMPTY;
        let inline = line.0.get_mut(8..8 + record.len());
        let info = match inline {
            Some(room) if record.len() <= INLINE_MAX => {
                room.copy_from_slice(record);
                INLINE | record.len() as u32
            }
            _ => {
                let at = encode_raw(record, &mut self.records);
                match u32::try_from(at / 4 + 1) {
                    Ok(i) if i & INLINE == 0 => i,
                    // Past 8 GiB of side records: not placed, so the
                    // principal is unknown (refused), never another's.
                    _ => return,
                }
            }
        };
        let [t0, t1, t2, t3] = tag_of(h).to_le_bytes();
        let [i0, i1, i2, i3] = info.to_le_bytes();
        if let Some(head) = line.0.get_mut(..8) {
            head.copy_from_slice(&[t0, t1, t2, t3, i0, i1, i2, i3]);
        }
        loop {
            match self.lines.get_mut(i) {
                Some(l) if l.info() == 0 => {
                    *l = line;
                    self.len += 1;
                    return;
                }
                Some(_) => i = (i + 1) & mask,
                None => return,
            }
        }
    }

    /// The record a (non-empty) line holds or points to.
    fn record_of<'s>(&'s self, line: &'s Line) -> Option<Person<'s>> {
        let info = line.info();
        let record = if info & INLINE != 0 {
            line.0.get(8..8 + (info & !INLINE) as usize)?
        } else {
            let at = (info as usize).checked_sub(1)? * 4;
            self.records.get(at..at + record_len(&self.records, at))?
        };
        Some(Person { record })
    }

    /// The principal named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Person<'_>> {
        let h = hash(name);
        let mask = self.lines.len().checked_sub(1)?;
        let tag = tag_of(h);
        let mut i = (h >> 32) as usize & mask;
        loop {
            let line = self.lines.get(i)?;
            if line.info() == 0 {
                return None;
            }
            if line.tag() == tag {
                if let Some(p) = self
                    .record_of(line)
                    .filter(|p| p.name_bytes() == name.as_bytes())
                {
                    return Some(p);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Every principal, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Person<'_>> + '_ {
        self.lines
            .iter()
            .filter(|l| l.info() != 0)
            .filter_map(|l| self.record_of(l))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lines.capacity() * std::mem::size_of::<Line>() + self.records.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, ms: &[(u32, u32)]) -> PersonData {
        PersonData {
            name: name.to_owned(),
            state: 2,
            global: 7,
            memberships: ms.to_vec(),
        }
    }

    #[test]
    fn finds_every_principal_and_nothing_else() {
        let all: Vec<PersonData> = (0..5000)
            .map(|i| person(&format!("user{i}"), &[(1, 10), (3, i), (9, 12)]))
            .chain([person("", &[]), person("é", &[(0, 0)])])
            .collect();
        let t = People::build(all.clone().into_iter());
        assert_eq!(t.len(), all.len());
        for p in &all {
            let got = t.get(&p.name).map(Person::to_data);
            assert_eq!(got.as_ref(), Some(p));
        }
        assert!(t.get("user5000").is_none() && t.get("user").is_none());
        let u = t
            .get("user42")
            .map(|p| (p.membership(3), p.membership(2), p.membership(9)));
        assert_eq!(u, Some((Some(42), None, Some(12))));
        assert_eq!(t.iter().count(), all.len());
    }

    #[test]
    fn records_too_long_for_a_line_live_beside_it() {
        let long_name = "a-principal-name-too-long-to-fit-in-its-cache-line-0123456789";
        let many: Vec<(u32, u32)> = (0..40).map(|o| (o, o + 100)).collect();
        let all = vec![
            person(long_name, &[(1, 2)]),
            person("many", &many),
            person("short", &[(1, 2)]),
        ];
        let t = People::build(all.clone().into_iter());
        for p in &all {
            assert_eq!(t.get(&p.name).map(Person::to_data).as_ref(), Some(p));
        }
        assert!(!t.records.is_empty(), "the long records are out of line");
        let mut names: Vec<String> = t.iter().map(|p| p.name().to_owned()).collect();
        names.sort();
        assert_eq!(names, [long_name, "many", "short"]);
        assert_eq!(t.get("many").and_then(|p| p.membership(39)), Some(139));
    }
}
