#!/usr/bin/env python3
"""A minimal Booster Protocol 0.3 peer in Python, built from booster's own proto/.

It plays a booster node: it listens on its own booster port, asks a booster
node (our TypeScript implementation) to connect to it, answers the node's
Notify and heartbeats, and checks what it receives. Exits 0 on success and
prints one line per step; any deviation is an error with a reason.

Heartbeats as a 0.3 node does them (docs/protocol.md): the ttl it receives is a
time on its OWN clock; a beat whose ttl has passed is an error (0.3 closes the
link); otherwise it answers when its clock reaches the ttl, with hops + 1 and
ttl = its now + T. --skew-ms sets its clock that far ahead of the real one
(a negative value: behind), as on a machine whose clock is off.

usage: peer.py --node HOST:PORT --pb-dir DIR [--beats N] [--skew-ms MS] [--period-ms T]
  DIR holds booster_pb2.py, generated with: protoc --python_out=DIR proto/booster.proto
"""
import argparse
import hashlib
import socket
import struct
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--node", required=True)
parser.add_argument("--pb-dir", required=True)
parser.add_argument("--beats", type=int, default=3)
parser.add_argument("--skew-ms", type=int, default=0)
parser.add_argument("--period-ms", type=int, default=300)
args = parser.parse_args()
sys.path.insert(0, args.pb_dir)
import booster_pb2 as pb  # noqa: E402
from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402


def clock_ms():
    """This peer's clock: the real one, off by --skew-ms."""
    return int(time.time() * 1000) + args.skew_ms


def encode(msg_id, payload=None):
    header = pb.Header(id=msg_id, modules=["PA"] if payload is not None else [], protocolVersion="0.3")
    header.sentAt.FromMilliseconds(clock_ms())
    modules = [(b"HE", header.SerializeToString())]
    if payload is not None:
        modules.append((b"PA", payload.SerializeToString()))
    out = b">\x01:\x01:\x01:" + bytes([len(modules)])
    for mid, data in modules:
        out += b"[" + mid + b":" + struct.pack(">H", len(data)) + b":" + data + b"]"
    return out + b"<"


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("stream closed")
        buf += chunk
    return buf


def read_packet(sock):
    head = read_exact(sock, 8)
    if head[0:1] != b">" or head[2:3] != b":" or head[4:5] != b":" or head[6:7] != b":":
        raise ValueError("bad framing %r" % head)
    if head[1] != 1:
        raise ValueError("expected protobuf encoding, got %d" % head[1])
    modules = {}
    for _ in range(head[7]):
        mh = read_exact(sock, 7)
        size = struct.unpack(">H", mh[4:6])[0]
        data = read_exact(sock, size)
        if read_exact(sock, 1) != b"]":
            raise ValueError("module not closed")
        modules[mh[1:3]] = data
    if read_exact(sock, 1) != b"<":
        raise ValueError("packet not closed")
    header = pb.Header()
    header.ParseFromString(modules[b"HE"])
    if header.protocolVersion != "0.3":
        raise ValueError("protocol version %r" % header.protocolVersion)
    return header, modules.get(b"PA")


def expect(sock, msg_id, cls):
    header, pa = read_packet(sock)
    if header.id != msg_id:
        raise ValueError("expected message %d, got %d" % (msg_id, header.id))
    payload = cls() if cls else None
    if payload is not None:
        payload.ParseFromString(pa)
    return header, payload


def ms(ts):
    return ts.seconds * 1000 + ts.nanos // 1_000_000


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(4)
bport = listener.getsockname()[1]
pport = 1  # this peer runs no proxy; nothing will dial it in this check
result = {}


def serve_node():
    """The node dials us after Connect: Hello, then Notify, then heartbeats."""
    conn, _ = listener.accept()
    conn.settimeout(10)
    conn.sendall(encode(pb.HELLO, pb.PayloadHello(bport=str(bport), pport=str(pport))))
    expect(conn, pb.NOTIFY, None)
    print("peer: got Notify", flush=True)
    beats = 0
    while beats < args.beats:
        header, hb = expect(conn, pb.HEARTBEAT, pb.PayloadHeartbeat)
        wait_ms = ms(hb.ttl) - clock_ms()
        print("peer: heartbeat hops=%d wait=%dms" % (hb.hops, wait_ms), flush=True)
        if hb.hops != 2 * beats + 1:
            raise ValueError("unexpected hops %d" % hb.hops)
        if wait_ms < 0:
            raise ValueError("heartbeat ttl is %d ms in the past on this peer's clock (0.3 closes the link)" % -wait_ms)
        time.sleep(wait_ms / 1000)
        ttl = Timestamp()
        ttl.FromMilliseconds(clock_ms() + args.period_ms)
        conn.sendall(encode(pb.HEARTBEAT, pb.PayloadHeartbeat(id="heartbeat", hops=hb.hops + 1, ttl=ttl)))
        beats += 1
    result["beats"] = beats
    conn.close()


server = threading.Thread(target=serve_node, daemon=True)
server.start()

host, port = args.node.rsplit(":", 1)
cli = socket.create_connection((host, int(port)), timeout=10)
_, hello = expect(cli, pb.HELLO, pb.PayloadHello)
print("peer: node says hello bport=%s pport=%s" % (hello.bport, hello.pport), flush=True)
cli.sendall(encode(pb.CONNECT, pb.PayloadConnect(target="127.0.0.1:%d" % bport)))
_, status = expect(cli, pb.NODE_STATUS, pb.PayloadNode)
want = hashlib.sha1(("127.0.0.1%d%d" % (bport, pport)).encode()).hexdigest()
if status.id != want or not status.active:
    raise ValueError("NodeStatus id %s active %s, expected %s active" % (status.id, status.active, want))
print("peer: node wired us as %s" % status.id, flush=True)
cli.close()

server.join(timeout=20)
if result.get("beats") != args.beats:
    print("peer: FAILED: heartbeat exchange incomplete", flush=True)
    sys.exit(1)
print("peer: OK", flush=True)
