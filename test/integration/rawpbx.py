"""A PBX whose NOTIFYs are written byte by byte, to send them again as
they were: retransmissions (same branch, same CSeq) and out-of-order
requests, which the fake PBX's libre transactions never send.

Usage: rawpbx.py udp|tcp PORTFILE RESULTS

Listens on 127.0.0.1 (port in PORTFILE), answers parkblf's SUBSCRIBE
200 (and its refreshes, un-SUBSCRIBE and OPTIONS pings), then runs the
steps below on that dialog, one at a time, each waiting for parkblf's
answer; RESULTS gets "STEP CSEQ STATUS" per step ("none" for no answer
in 3 s), then "done".  Serves on until SIGTERM (exit 0)."""
import os
import re
import select
import signal
import socket
import sys
import time

TP, PORTFILE, RESULTS = sys.argv[1], sys.argv[2], sys.argv[3]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

DN = "*00"


def body(version, parked):
    dlg = ('<dialog id="call-1" direction="recipient">'
           '<state>confirmed</state><remote><identity display="Alice">'
           'sip:100@127.0.0.1</identity></remote></dialog>'
           if parked else "")
    return ('<?xml version="1.0"?>\r\n<dialog-info xmlns="urn:ietf:params:'
            'xml:ns:dialog-info" version="%d" state="full" '
            'entity="sip:%s@127.0.0.1">%s</dialog-info>\r\n'
            % (version, DN, dlg))


if TP == "udp":
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    lsock = None
else:
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    sock = None
PORT = (sock or lsock).getsockname()[1]
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % PORT)
os.rename(PORTFILE + ".tmp", PORTFILE)

peer = None        # UDP: parkblf's address
buf = b""          # TCP: bytes not yet framed
dialog = {}        # call-id, tags, URIs of the subscription


def send(data):
    if TP == "udp":
        sock.sendto(data, peer)
    else:
        sock.sendall(data)


def hdr(head, name):
    m = re.search(r"(?im)^(?:%s)\s*:\s*(.*?)\r?$" % name, head)
    return m.groups()[-1] if m else ""


def messages(timeout):
    """Messages received within timeout seconds, as (head, body)"""
    global sock, peer, buf
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            return
        socks = [s for s in (sock, lsock) if s]
        r, _, _ = select.select(socks, [], [], left)
        if not r:
            return
        if lsock in r:
            sock, _ = lsock.accept()
            continue
        if TP == "udp":
            data, peer = sock.recvfrom(65536)
            if data.strip():
                head, _, rest = data.partition(b"\r\n\r\n")
                yield head.decode(), rest
            continue
        data = sock.recv(65536)
        if not data:
            sock = None
            continue
        buf += data
        while b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            n = int(hdr(head.decode(), "(content-length|l)") or 0)
            if len(rest) < n:
                break
            buf = rest[n:]
            if head.strip():
                yield head.decode(), rest[:n]


def answer(head, code, extra=""):
    lines = [l for l in head.split("\r\n")[1:]
             if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq)\s*:", l)]
    out = []
    for l in lines:
        if re.match(r"(?i)(to|t)\s*:", l) and ";tag=" not in l:
            l += ";tag=pbx-" + dialog.get("ltag", "x")
        out.append(l)
    send(("SIP/2.0 %d %s\r\n%s\r\n%sContent-Length: 0\r\n\r\n"
          % (code, "OK" if code == 200 else "Whatever", "\r\n".join(out),
             extra)).encode())


def handle(head):
    """A request of parkblf's; returns True for the first SUBSCRIBE"""
    method = head.split(" ", 1)[0]
    if method == "SUBSCRIBE":
        first = "callid" not in dialog
        if first:
            dialog["ltag"] = "1"
            dialog["callid"] = hdr(head, "(call-id|i)")
            dialog["from"] = hdr(head, "(from|f)")
            dialog["to"] = hdr(head, "(to|t)")
            c = hdr(head, "(contact|m)")
            dialog["target"] = re.search(r"<([^>]*)>", c).group(1)
        answer(head, 200, "Expires: %s\r\nContact: <sip:any-dn@127.0.0.1:"
               "%d;transport=%s>\r\n" % (hdr(head, "expires") or "600",
                                         PORT, TP))
        return first
    if method not in ("ACK",):
        answer(head, 200)
    return False


def notify(cseq, branch, version, parked):
    b = body(version, parked).encode()
    to = re.sub(r";tag=[^;>]*", "", dialog["from"])
    totag = re.search(r";tag=([^;>]*)", dialog["from"]).group(1)
    return (("NOTIFY %s SIP/2.0\r\n"
             "Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\n"
             "Max-Forwards: 70\r\n"
             "From: %s;tag=pbx-1\r\n"
             "To: %s;tag=%s\r\n"
             "Call-ID: %s\r\n"
             "CSeq: %d NOTIFY\r\n"
             "Contact: <sip:any-dn@127.0.0.1:%d;transport=%s>\r\n"
             "Event: dialog\r\n"
             "Subscription-State: active;expires=600\r\n"
             "Content-Type: application/dialog-info+xml\r\n"
             "Content-Length: %d\r\n\r\n"
             % (dialog["target"], TP.upper(), PORT, branch,
                dialog["to"], to, totag, dialog["callid"], cseq, PORT, TP,
                len(b))).encode() + b)


def status_of(cseq, branch, timeout=3.0):
    """parkblf's answer to the NOTIFY (CSEQ, BRANCH); its requests
    meanwhile are answered"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for head, _ in messages(deadline - time.time()):
            if not head.startswith("SIP/2.0"):
                handle(head)
                continue
            if (hdr(head, "cseq").split()[0] == str(cseq) and
                    ("branch=z9hG4bK-%s;" % branch) in
                    hdr(head, "(via|v)") + ";"):
                return head.split()[1]
    return "none"


# the SUBSCRIBE
while "callid" not in dialog:
    for head, _ in messages(1.0):
        if not head.startswith("SIP/2.0") and handle(head):
            break

results = open(RESULTS, "w")


def step(name, msg, cseq, branch):
    send(msg)
    results.write("%s %d %s\n" % (name, cseq, status_of(cseq, branch)))
    results.flush()


n1 = notify(1, "b1", 0, False)
n2 = notify(2, "b2", 1, True)
n3 = notify(3, "b3", 2, False)
step("initial", n1, 1, "b1")
while not os.path.exists(RESULTS + ".go"):
    for head, _ in messages(0.05):
        if not head.startswith("SIP/2.0"):
            handle(head)
step("park", n2, 2, "b2")
step("park-again", n2, 2, "b2")               # its retransmission
step("retrieve", n3, 3, "b3")
step("park-late", n2, 2, "b2")                # retransmitted late
step("park-new", notify(2, "b2x", 1, True), 2, "b2x")  # out of order
step("retrieve-again", n3, 3, "b3")
step("last", notify(4, "b4", 3, False), 4, "b4")
results.write("done\n")
results.close()

while True:
    for head, _ in messages(1.0):
        if not head.startswith("SIP/2.0"):
            handle(head)
