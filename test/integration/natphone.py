"""A phone behind NAT, as parkblf sees it from loopback: its Via and
Contact name 10.9.9.9:5060, an address nothing routes to, and its Via
has no rport.  It answers NOTIFYs and keepalive OPTIONS and prints
"TAG <parkblf's tag>" and "BODY <document on one line>" lines.

natphone.py tcp|tls HOST PORT subscribe      SUBSCRIBE on a new connection,
                                             wait for 200 + NOTIFY, close
natphone.py tcp|tls HOST PORT refresh TAG    the same as a refresh
natphone.py udp HOST PORT watch SECONDS      SUBSCRIBE, then answer and
                                             print for SECONDS
natphone.py tcp|tls HOST PORT watch SECONDS  the same on one connection

Environment: NATPHONE_LIST=NAME subscribes to the BLF list NAME (RFC
4662: Supported: eventlist, multipart/related) instead of park-1;
NATPHONE_REFRESH=S (watch) sends a refresh in the dialog S seconds
in (on the same socket or connection), printing "REFRESHED" on its
200; NATPHONE_MUTE=S (watch) answers nothing after S seconds;
NATPHONE_ID=X tells phones of one test apart (Call-ID, branch);
NATPHONE_WANT=REGEX (subscribe, refresh) waits for a NOTIFY matching.
NATPHONE_NOANSWER=1 (subscribe, refresh) answers no NOTIFY: its
connection is gone before the answer goes (parkblf's NOTIFY stays in
flight).  NATPHONE_WITHIN=S (subscribe, refresh) fails unless the 200
and the NOTIFY came within S seconds (keepalives do not count).
NATPHONE_FROM=1 (udp watch) prints "FROM <address>:<port> <method>"
before each request, naming the socket it came from.
"""
import os
import re
import socket
import ssl
import sys
import time

from phonelib import ACCEPT_KEY, ACCEPT_LIST, answer

tp, host, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
arg = sys.argv[5] if len(sys.argv) > 5 else ""
LIST = os.environ.get("NATPHONE_LIST", "")
REFRESH = float(os.environ.get("NATPHONE_REFRESH", "0"))
MUTE = float(os.environ.get("NATPHONE_MUTE", "0"))
USER = LIST or "park-1"
ID = os.environ.get("NATPHONE_ID", "1")
WANT = os.environ.get("NATPHONE_WANT", "")
FROM = os.environ.get("NATPHONE_FROM", "")
NOANSWER = os.environ.get("NATPHONE_NOANSWER", "")
WITHIN = float(os.environ.get("NATPHONE_WITHIN", "0"))


def hdr(head, name):
    return re.search(r"(?im)^" + name + r":\s*(.*?)\r?$", head).group(1)


def parse(data):
    head, rest = data.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    return head.decode(), rest[:n].decode(), rest[n:], len(rest) >= n


def subscribe(tag, cseq):
    to = "<sip:%s@%s:%d>%s" % (USER, host, port, ";tag=" + tag if tag else "")
    accept = ACCEPT_LIST if LIST else ACCEPT_KEY
    return ("SUBSCRIBE sip:%s@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s 10.9.9.9:5060;branch=z9hG4bKnat%s%d\r\n"
            "From: <sip:phone@10.9.9.9>;tag=nat1\r\n"
            "To: %s\r\n"
            "Call-ID: nat-%s-%s\r\n"
            "CSeq: %d SUBSCRIBE\r\n"
            "Contact: <sip:phone@10.9.9.9:5060;transport=%s>\r\n"
            "Event: dialog\r\n"
            "%s"
            "Expires: 600\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" %
            (USER, host, port, tp.upper(), ID, cseq, to, tp, ID, cseq, tp,
             accept)).encode()


def handle(head, body, send):
    """Answers a request; returns what to print"""
    if head.startswith("SIP/2.0 200"):
        if mode == "watch" and hdr(head, "CSeq").startswith("2 "):
            return "REFRESHED"
        return "TAG " + re.search(r";tag=([^;>\s]+)", hdr(head, "To")).group(1)
    if head.startswith("NOTIFY"):
        if not NOANSWER:
            send(answer(head))
        return "BODY " + body.replace("\r", "").replace("\n", "")
    if head.startswith("OPTIONS"):
        send(answer(head))
        return "OPTIONS"
    return ""


def out(line):
    if line:
        print(line, flush=True)


def connect():
    """A TCP or TLS connection to parkblf"""
    s = socket.create_connection((host, port), timeout=10)
    if tp == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    return s


def watch(send, recv):
    """SUBSCRIBE, then answer and print until the end of arg seconds"""
    start = time.time()
    tag, refreshed = "", False
    send(subscribe("", 1))
    while time.time() < start + float(arg):
        if REFRESH and tag and not refreshed and \
                time.time() >= start + REFRESH:
            send(subscribe(tag, 2))
            refreshed = True
        for head, body, reply in recv():
            if MUTE and time.time() >= start + MUTE:
                continue
            line = handle(head, body, reply)
            if line.startswith("TAG "):
                tag = line[4:]
            out(line)


if tp in ("tcp", "tls") and mode == "watch":
    s = connect()
    s.settimeout(0.2)
    pending = [b""]

    def recv_stream():
        try:
            d = s.recv(65535)
        except socket.timeout:
            return []
        if not d:
            sys.exit("connection closed by parkblf")
        pending[0] += d
        msgs = []
        while b"\r\n\r\n" in pending[0]:
            head, body, rest, whole = parse(pending[0])
            if not whole:
                break
            pending[0] = rest
            msgs.append((head, body, s.sendall))
        return msgs
    watch(s.sendall, recv_stream)
    s.close()
elif tp in ("tcp", "tls"):
    s = connect()
    s.sendall(subscribe(arg if mode == "refresh" else "",
                        2 if mode == "refresh" else 1))
    buf, seen = b"", set()
    deadline = time.time() + WITHIN
    while not {"TAG", "BODY"} <= seen:
        if WITHIN and time.time() > deadline:
            sys.exit("no 200 and NOTIFY within %g s" % WITHIN)
        d = s.recv(4096)
        if not d:
            sys.exit("connection closed by parkblf")
        buf += d
        while b"\r\n\r\n" in buf:
            head, body, rest, whole = parse(buf)
            if not whole:
                break
            buf = rest
            line = handle(head, body, s.sendall)
            out(line)
            if not (WANT and line.startswith("BODY ") and
                    not re.search(WANT, line)):
                seen.add(line.split(" ")[0])
    s.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)

    def recv_dgram():
        try:
            d, src = s.recvfrom(65535)
        except socket.timeout:
            return []
        head, body, _, _ = parse(d)
        if FROM and not head.startswith("SIP/2.0"):
            out("FROM %s:%d %s" % (src[0], src[1], head.split(" ", 1)[0]))
        return [(head, body, lambda m: s.sendto(m, src))]
    watch(lambda m: s.sendto(m, (host, port)), recv_dgram)
