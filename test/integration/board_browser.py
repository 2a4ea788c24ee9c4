#!/usr/bin/env python3
"""Drives the live board in headless Chromium over the DevTools protocol.

Usage: board_browser.py URL PBX_CONTROL_PORT AUTH RESTART_FLAG [PNG]

Loads URL (/board) with basic credentials AUTH (user:password), then:
parks a call at the fake PBX and waits for its row; checks that its
timer advances with no event; waits for the overdue highlight; takes a
screenshot (PNG); retrieves the call and waits for the row to be free;
then prints RESTART and waits for the file RESTART_FLAG (the test has
restarted parkblf): the page must reconnect by itself and show a call
parked after the restart.  Prints one line per step; exits 1 on the
first failure.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

URL, CTL, AUTH, FLAG = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4]
PNG = sys.argv[5] if len(sys.argv) > 5 else None


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def pbx(cmd):
    with socket.create_connection(("127.0.0.1", CTL), timeout=10) as s:
        s.sendall((cmd + "\n").encode())
        reply = s.makefile().readline().strip()
    if not reply.startswith("ok"):
        fail("fake PBX: %r -> %r" % (cmd, reply))


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.n = 0

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    fail("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        return r.get("result", {}).get("value")

    def wait(self, expr, what, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.02)
        fail("%s (after %s s); page text: %r" %
             (what, seconds, self.js("document.body.innerText")))


ROW = "document.querySelector('tr[data-orbit=\"park-1\"]')"
CALLER = "(%s && %s.querySelector('td.caller').textContent)" % (ROW, ROW)
TIMER = "(%s && %s.querySelector('td.waited').textContent)" % (ROW, ROW)


def seconds(text):
    parts = [int(p) for p in text.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def main():
    # the test's clean-up sends SIGTERM: stop Chromium too
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    profile = tempfile.mkdtemp(prefix="parkblf-chromium.")
    browser = subprocess.Popen(
        ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--user-data-dir=" + profile,
         "--remote-debugging-port=0", "--window-size=1100,700",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run(profile)
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


def run(profile):
    portfile = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not os.path.exists(portfile) or not open(portfile).read():
        if time.time() > deadline:
            fail("chromium did not start")
        time.sleep(0.1)
    port = int(open(portfile).read().split()[0])
    targets = json.load(urllib.request.urlopen(
        "http://127.0.0.1:%d/json" % port, timeout=10))
    page = [t for t in targets if t["type"] == "page"][0]
    p = Page(websocket.create_connection(page["webSocketDebuggerUrl"],
                                         timeout=30))
    p.call("Network.enable")
    p.call("Network.setExtraHTTPHeaders", headers={
        "Authorization": "Basic " + base64.b64encode(
            AUTH.encode()).decode()})
    p.call("Page.navigate", url=URL)

    p.wait("document.getElementById('conn') && "
           "document.getElementById('conn').textContent === 'live'",
           "the board never said live")
    p.wait(CALLER + " === 'free'", "park-1 not shown free")
    print("board loaded: park-1 free", flush=True)

    pbx("park *00 call-1 4930111 Alice Smith")
    t0 = time.time()
    p.wait(CALLER + " === '4930111 Alice Smith'", "the call's row")
    print("row of the parked call on screen %.0f ms after the park "
          "command's answer (includes the fake PBX's NOTIFY)" %
          ((time.time() - t0) * 1000), flush=True)
    label = p.js("%s.querySelector('td.label').textContent" % ROW)
    code = p.js("%s.querySelector('button.code').textContent" % ROW)
    if label != "Orbit 0" or code != "*10":
        fail("label %r, retrieve code %r" % (label, code))

    # the count goes up by itself (no event comes), at the clock's pace
    first = p.js(TIMER)
    t1 = time.time()
    p.wait("(function (t) { var p = t.split(':').map(Number);"
           " return p[p.length - 1] + 60 * p[p.length - 2]; })(%s) >= %d"
           % (TIMER, seconds(first) + 2), "the timer did not count up "
           "from %s" % first, 6)
    took = time.time() - t1
    if took < 1.0:
        fail("the timer ran fast: +2 s in %.1f s" % took)
    print("timer advances with no event: %s -> %s in %.1f s" %
          (first, p.js(TIMER), took), flush=True)

    p.wait("%s.classList.contains('overdue')" % ROW,
           "the call was not highlighted overdue", 10)
    print("overdue highlight at %s" % p.js(TIMER), flush=True)

    # keyboard: Tab reaches a row, ArrowDown moves on
    p.js("document.querySelector('tr[tabindex]').focus()")
    p.call("Input.dispatchKeyEvent", type="keyDown", key="ArrowDown",
           code="ArrowDown", windowsVirtualKeyCode=40)
    focused = p.js("document.activeElement.dataset.orbit")
    if focused != "park-2":
        fail("ArrowDown from park-1 focused %r" % focused)
    p.js("document.activeElement.blur()")
    print("keyboard: ArrowDown moves from park-1 to park-2", flush=True)

    # a second orbit busy, not overdue yet, for the screenshot
    pbx("park *01 call-3 4930222 Bob Jones")
    p.wait("document.querySelector('tr[data-orbit=\"park-2\"] "
           "td.caller').textContent === '4930222 Bob Jones'",
           "park-2's call")
    if p.js("document.querySelector('tr[data-orbit=\"park-2\"]')"
            ".classList.contains('overdue')"):
        fail("a call of 0 s highlighted overdue")

    if PNG:
        shot = p.call("Page.captureScreenshot", format="png")
        with open(PNG, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print("screenshot: " + PNG, flush=True)

    pbx("retrieve *01")
    pbx("retrieve *00")
    p.wait(CALLER + " === 'free'", "the retrieved call's row stayed")
    print("retrieved: park-1 free again", flush=True)

    # the table of what happened, newest first
    p.wait("document.querySelectorAll('#history tr').length === 2 && "
           "document.querySelector('#history tr td.caller').textContent"
           " === '4930111 Alice Smith' && document.querySelector("
           "'#history tr:nth-child(2) td.caller').textContent === "
           "'4930222 Bob Jones'", "the history table")
    print("history table: %s" % p.js(
        "document.getElementById('history').innerText.replace(/\\s+/g,"
        " ' ')"), flush=True)

    print("RESTART", flush=True)
    deadline = time.time() + 60
    while not os.path.exists(FLAG):
        if time.time() > deadline:
            fail("the test did not restart parkblf")
        time.sleep(0.05)
    p.wait("document.getElementById('conn').textContent === 'live'",
           "no reconnect after the restart", 20)
    pbx("park *00 call-2 4930333 Carol")
    p.wait(CALLER + " === '4930333 Carol'",
           "a call parked after the restart not shown")
    print("reconnected by itself after the restart; new call shown",
          flush=True)
    p.wait("document.querySelectorAll('#history tr').length === 2 && "
           "document.querySelector('#history tr td.caller').textContent"
           " === '4930111 Alice Smith'",
           "the history table after the restart")
    print("history table after the restart: the calls of the first run",
          flush=True)

    # a caller name is text, never markup: escaped on the way (JSON)
    # and set as text on the page
    evil = "<img src=x onerror=\"document.title='pwned'\"> & \\ \"Q\""
    pbx("park *01 call-9 666 " + evil)
    p.wait("document.querySelector('tr[data-orbit=\"park-2\"] "
           "td.caller').textContent === %s" % json.dumps("666 " + evil),
           "the hostile caller name not shown as text")
    if p.js("document.querySelectorAll('img').length") != 0 or \
            p.js("document.title") == "pwned":
        fail("a caller name became markup")
    print("a caller name with markup, quotes and a backslash shows as "
          "text", flush=True)


main()
