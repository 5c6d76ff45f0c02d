//! Principals and their memberships in two flat arrays, so that a decision
//! at a million memberships touches two cache lines it may not have: one
//! slot of an open-addressed index, and the principal's record, which holds
//! the name (to confirm the match), the account state, the global
//! permission class and every membership as (organization, class) pairs
//! sorted by organization. Permission and role sets live once per class
//! (distinct combination of roles and grants), not once per membership.

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

/// The index and the records.
#[derive(Debug, Clone, Default)]
pub(crate) struct People {
    /// 0 when empty, else `tag << 32 | (offset / 4 + 1)`.
    slots: Vec<u64>,
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
        let size = (n * 2).next_power_of_two().max(8);
        let mut t = Self {
            slots: vec![0; size],
            records: Vec::new(),
            len: 0,
        };
        for p in people {
            let at = encode(&p, &mut t.records);
            t.place(&p.name, at);
        }
        t.records.shrink_to_fit();
        t
    }

    fn place(&mut self, name: &str, at: usize) {
        let h = hash(name);
        let mask = self.slots.len() - 1;
        let mut i = (h >> 32) as usize & mask;
        let slot = (h & 0xffff_ffff_0000_0000) | (at as u64 / 4 + 1);
        loop {
            match self.slots.get_mut(i) {
                Some(s) if *s == 0 => {
                    *s = slot;
                    self.len += 1;
                    return;
                }
                Some(_) => i = (i + 1) & mask,
                None => return,
            }
        }
    }

    fn record_at(&self, slot: u64) -> Option<Person<'_>> {
        let at = ((slot & 0xffff_ffff) as usize - 1) * 4;
        let len = record_len(&self.records, at);
        self.records
            .get(at..at + len)
            .map(|record| Person { record })
    }

    /// The principal named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Person<'_>> {
        let h = hash(name);
        let mask = self.slots.len().checked_sub(1)?;
        let tag = h & 0xffff_ffff_0000_0000;
        let mut i = (h >> 32) as usize & mask;
        loop {
            let s = *self.slots.get(i)?;
            if s == 0 {
                return None;
            }
            if s & 0xffff_ffff_0000_0000 == tag {
                if let Some(p) = self
                    .record_at(s)
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
        let mut at = 0usize;
        std::iter::from_fn(move || {
            at = at.next_multiple_of(4);
            if at >= self.records.len() {
                return None;
            }
            let len = record_len(&self.records, at);
            let record = self.records.get(at..at + len)?;
            at += len;
            Some(Person { record })
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.records.capacity()
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
}
