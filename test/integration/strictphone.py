"""A UDP phone behind a strict firewall: it takes requests only from the
address and port it sent its SUBSCRIBE to (as a NAT that filters by
address and port does, RFC 4787 "address and port-dependent
filtering").  It SUBSCRIBEs from 127.0.0.1 (its Contact: its source)
to HOST:PORT, answers with 200 every request that comes from there,
and prints one line per request it gets:

  REQ <METHOD> SRC=<ip:port> VIA=<top Via sent-by> CONTACT=<host:port
      of the Contact URI, or -> STATE=<Subscription-State or -> BODY=<body
      on one line>

and "STRAY <first line> SRC=<ip:port>" for a datagram from anywhere
else, which it does not answer (the firewall dropped it).

strictphone.py HOST PORT SECONDS USER

USER is the name subscribed to (park-1, or a blf_list name: then with
Supported: eventlist).  Environment: STRICT_LIST=1 for a list;
STRICT_UNSUB=S un-SUBSCRIBEs (Expires: 0) in the dialog S seconds in.
"""
import os
import re
import socket
import sys
import time

from phonelib import ACCEPT_KEY, ACCEPT_LIST, answer

host, port, seconds, user = (sys.argv[1], int(sys.argv[2]),
                             float(sys.argv[3]), sys.argv[4])
LIST = os.environ.get("STRICT_LIST", "") == "1"
UNSUB = float(os.environ.get("STRICT_UNSUB", "0"))

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.1)
me = "127.0.0.1:%d" % s.getsockname()[1]
peer = (host, port)


def hdr(head, name, short=None):
    names = name if not short else "(?:%s|%s)" % (name, short)
    m = re.search(r"(?im)^" + names + r"[ \t]*:[ \t]*(.*?)\r?$", head)
    return m.group(1) if m else None


def subscribe(tag, cseq, expires):
    to = "<sip:%s@%s:%d>%s" % (user, host, port, ";tag=" + tag if tag else "")
    accept = ACCEPT_LIST if LIST else ACCEPT_KEY
    return ("SUBSCRIBE sip:%s@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bKstrict%d\r\n"
            "From: <sip:phone@127.0.0.1>;tag=strict1\r\n"
            "To: %s\r\n"
            "Call-ID: strict-%s\r\n"
            "CSeq: %d SUBSCRIBE\r\n"
            "Contact: <sip:phone@%s>\r\n"
            "Event: dialog\r\n"
            "%s"
            "Expires: %d\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" %
            (user, host, port, me, cseq, to, me, cseq, me, accept,
             expires)).encode()


def hostport(uri):
    if not uri:
        return "-"
    m = re.search(r"sips?:(?:[^@>;]*@)?([^;>]+)", uri)
    return m.group(1) if m else "-"


s.sendto(subscribe("", 1, 600), peer)
start = time.time()
tag, unsubscribed = "", False
while time.time() < start + seconds:
    if UNSUB and tag and not unsubscribed and time.time() >= start + UNSUB:
        s.sendto(subscribe(tag, 2, 0), peer)
        unsubscribed = True
    try:
        d, src = s.recvfrom(65535)
    except socket.timeout:
        continue
    text = d.decode(errors="replace")
    head, _, rest = text.partition("\r\n\r\n")
    where = "%s:%d" % src
    if src != peer:
        print("STRAY %s SRC=%s" % (head.split("\r\n")[0], where), flush=True)
        continue
    if head.startswith("SIP/2.0 "):
        if head.startswith("SIP/2.0 200") and not tag:
            m = re.search(r";tag=([^;>\s]+)", hdr(head, "To", "t") or "")
            tag = m.group(1) if m else ""
        continue
    s.sendto(answer(head), src)
    via = hdr(head, "Via", "v") or ""
    m = re.search(r"SIP/2\.0/UDP\s+([^;\s]+)", via)
    print("REQ %s SRC=%s VIA=%s CONTACT=%s STATE=%s BODY=%s" %
          (head.split(" ")[0], where, m.group(1) if m else "-",
           hostport(hdr(head, "Contact", "m")),
           hdr(head, "Subscription-State") or "-",
           rest.replace("\r", "").replace("\n", "")), flush=True)
