"""An outside gRPC client for the grpc-quickstart: Python grpcio, not Rust.

Run by examples/tests/grpc_quickstart.rs:

    python grpc_client.py ADDR DESCRIPTOR_SET < cases.json

Each case names a method (of bouncer.quickstart.v1.Documents, or any path
starting with "/"), the metadata to send, the request fields, and what to
expect: the status code name, and for denials the ErrorInfo reason code
and the exact `www-authenticate` values (in order), or `RetryInfo`. The
messages are built from the server's descriptor set, so no code is
generated. Prints one line per case, then "N passed, M failed"; exits 1
if any failed.
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_status import rpc_status

SERVICE = "bouncer.quickstart.v1.Documents"


def load_service(path):
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(path, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return pool.FindServiceByName(SERVICE)


def stub_for(channel, service, method):
    if method.startswith("/"):
        # A method the server does not know: raw bytes both ways.
        return channel.unary_unary(
            method,
            request_serializer=lambda _: b"",
            response_deserializer=lambda b: b,
        ), None
    m = service.FindMethodByName(method)
    req_cls = message_factory.GetMessageClass(m.input_type)
    res_cls = message_factory.GetMessageClass(m.output_type)
    stub = channel.unary_unary(
        f"/{SERVICE}/{method}",
        request_serializer=req_cls.SerializeToString,
        response_deserializer=res_cls.FromString,
    )
    return stub, req_cls


def check(channel, service, case):
    stub, req_cls = stub_for(channel, service, case["method"])
    request = json_format.ParseDict(case.get("request", {}), req_cls()) if req_cls else b""
    metadata = [tuple(kv) for kv in case.get("metadata", [])]
    expect = case["expect"]
    problems = []
    try:
        response = stub(request, metadata=metadata, timeout=10)
    except grpc.RpcError as e:
        code = e.code().name
        if code != expect["code"]:
            return [f"status {code} ({e.details()!r}), expected {expect['code']}"]
        trailers = list(e.trailing_metadata() or []) + list(e.initial_metadata() or [])
        challenges = [v for k, v in trailers if k == "www-authenticate"]
        if "www_authenticate" in expect and challenges != expect["www_authenticate"]:
            problems.append(f"www-authenticate {challenges!r}, expected {expect['www_authenticate']!r}")
        if "message" in expect and e.details() != expect["message"]:
            problems.append(f"message {e.details()!r}, expected {expect['message']!r}")
        status = rpc_status.from_call(e)
        reason = expect.get("reason")
        if reason is None:
            if status is not None:
                problems.append("unexpected grpc-status-details-bin")
            return problems
        if status is None:
            return problems + ["no grpc-status-details-bin"]
        if status.code != e.code().value[0]:
            problems.append(f"google.rpc.Status code {status.code} != {e.code().value[0]}")
        infos, retries = [], []
        for any_detail in status.details:
            if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                any_detail.Unpack(info)
                infos.append(info)
            elif any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                any_detail.Unpack(retry)
                retries.append(retry)
        if len(infos) != 1:
            return problems + [f"{len(infos)} ErrorInfo details"]
        info = infos[0]
        # The decision id, as an HTTP body's `instance` names it (22
        # base64url characters), beside the code.
        meta = dict(info.metadata)
        decision_id = meta.pop("decision_id", None)
        if decision_id is not None and (len(decision_id) != 22 or not all(c.isalnum() or c in "-_" for c in decision_id)):
            problems.append(f"decision_id {decision_id!r} is not a decision id")
        if info.reason != reason.upper() or info.domain != "bouncer" or meta != {"code": reason}:
            problems.append(f"ErrorInfo {info.reason}/{info.domain}/{dict(info.metadata)}, expected {reason}")
        if expect.get("retry") and not (retries and retries[0].retry_delay.seconds >= 1):
            problems.append("no RetryInfo with a delay")
        if not expect.get("retry") and retries:
            problems.append("unexpected RetryInfo")
        return problems
    if expect["code"] != "OK":
        return [f"OK, expected {expect['code']}"]
    fields = expect.get("fields", {})
    got = json_format.MessageToDict(response, preserving_proto_field_name=True) if req_cls else {}
    for k, v in fields.items():
        if got.get(k) != v:
            problems.append(f"field {k} = {got.get(k)!r}, expected {v!r}")
    return problems


def main():
    addr, descriptor = sys.argv[1], sys.argv[2]
    cases = json.load(sys.stdin)
    service = load_service(descriptor)
    passed = failed = 0
    with grpc.insecure_channel(addr) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        for case in cases:
            problems = check(channel, service, case)
            if problems:
                failed += 1
                print(f"FAIL {case['name']}: {'; '.join(problems)}")
            else:
                passed += 1
                print(f"ok   {case['name']}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
