"""A phone whose requests leave from one UDP port and whose Contact
names another (a phone with a separate signalling port, or a SUBSCRIBE
relayed without Record-Route): parkblf cannot take its Contact as
verified until the phone answers there.  It SUBSCRIBEs to park-1 from
127.0.0.1 with a Contact on 127.0.0.2, then answers there every NOTIFY
it gets for SECONDS and prints "BODY <document on one line>" for each.

splitphone.py HOST PORT SECONDS
"""
import socket
import sys
import time

from phonelib import answer

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("127.0.0.2", 0))
pb = b.getsockname()[1]

a.sendto(("SUBSCRIBE sip:park-1@%s:%d SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bKsplit1\r\n"
          "From: <sip:phone@127.0.0.1>;tag=split1\r\n"
          "To: <sip:park-1@%s:%d>\r\n"
          "Call-ID: split-1\r\n"
          "CSeq: 1 SUBSCRIBE\r\n"
          "Contact: <sip:phone@127.0.0.2:%d>\r\n"
          "Event: dialog\r\n"
          "Accept: application/dialog-info+xml\r\n"
          "Expires: 600\r\n"
          "Max-Forwards: 70\r\n"
          "Content-Length: 0\r\n\r\n" %
          (host, port, a.getsockname()[1], host, port, pb)).encode(),
         (host, port))

end = time.time() + seconds
b.settimeout(0.2)
while time.time() < end:
    try:
        data, src = b.recvfrom(65535)
    except socket.timeout:
        continue
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    if not head.startswith("NOTIFY"):
        continue
    b.sendto(answer(head), src)
    print("BODY " + body.replace("\r", "").replace("\n", ""), flush=True)
