"""What the test phones (natphone.py, splitphone.py, strictphone.py)
share: the 200 OK they answer requests with, and the Accept headers of
their SUBSCRIBEs."""
import re

# a BLF list's (RFC 4662) SUBSCRIBE; a single key's
ACCEPT_LIST = ("Supported: eventlist\r\n"
               "Accept: multipart/related, application/rlmi+xml, "
               "application/dialog-info+xml\r\n")
ACCEPT_KEY = "Accept: application/dialog-info+xml\r\n"


def answer(head):
    """The 200 OK to the request whose head (up to the blank line) is
    given"""
    lines = [l for l in head.split("\r\n")[1:]
             if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq)\s*:", l)]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) +
            "\r\nContent-Length: 0\r\n\r\n").encode()
