"""A phone behind NAT, as parkblf sees it from loopback: its Via and
Contact name 10.9.9.9:5060, an address nothing routes to, and its Via
has no rport.  It answers NOTIFYs and keepalive OPTIONS and prints
"TAG <parkblf's tag>" and "BODY <document on one line>" lines.

natphone.py tcp|tls HOST PORT subscribe      SUBSCRIBE on a new connection,
                                             wait for 200 + NOTIFY, close
natphone.py tcp|tls HOST PORT refresh TAG    the same as a refresh
natphone.py udp HOST PORT watch SECONDS      SUBSCRIBE, then answer and
                                             print for SECONDS
"""
import re
import socket
import ssl
import sys
import time

tp, host, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
arg = sys.argv[5] if len(sys.argv) > 5 else ""


def hdr(head, name):
    return re.search(r"(?im)^" + name + r":\s*(.*?)\r?$", head).group(1)


def parse(data):
    head, rest = data.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    return head.decode(), rest[:n].decode(), rest[n:], len(rest) >= n


def answer(head):
    lines = [l for l in head.split("\r\n")[1:]
             if re.match(r"(?i)(via|from|to|call-id|cseq):", l)]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
            "\r\nContent-Length: 0\r\n\r\n").encode()


def subscribe(tag, cseq):
    to = "<sip:park-1@%s:%d>%s" % (host, port, ";tag=" + tag if tag else "")
    return ("SUBSCRIBE sip:park-1@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s 10.9.9.9:5060;branch=z9hG4bKnat%d\r\n"
            "From: <sip:phone@10.9.9.9>;tag=nat1\r\n"
            "To: %s\r\n"
            "Call-ID: nat-%s-1\r\n"
            "CSeq: %d SUBSCRIBE\r\n"
            "Contact: <sip:phone@10.9.9.9:5060;transport=%s>\r\n"
            "Event: dialog\r\n"
            "Accept: application/dialog-info+xml\r\n"
            "Expires: 600\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" %
            (host, port, tp.upper(), cseq, to, tp, cseq, tp)).encode()


def handle(head, body, send):
    """Answers a request; returns what to print"""
    if head.startswith("SIP/2.0 200"):
        return "TAG " + re.search(r";tag=([^;>\s]+)", hdr(head, "To")).group(1)
    if head.startswith("NOTIFY"):
        send(answer(head))
        return "BODY " + body.replace("\r", "").replace("\n", "")
    if head.startswith("OPTIONS"):
        send(answer(head))
        return "OPTIONS"
    return ""


def out(line):
    if line:
        print(line, flush=True)


if tp in ("tcp", "tls"):
    s = socket.create_connection((host, port), timeout=10)
    if tp == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(subscribe(arg if mode == "refresh" else "",
                        2 if mode == "refresh" else 1))
    buf, seen = b"", set()
    while not {"TAG", "BODY"} <= seen:
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
            seen.add(line.split(" ")[0])
    s.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    s.sendto(subscribe("", 1), (host, port))
    end = time.time() + float(arg)
    while time.time() < end:
        try:
            d, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        head, body, _, _ = parse(d)
        out(handle(head, body, lambda m: s.sendto(m, src)))
