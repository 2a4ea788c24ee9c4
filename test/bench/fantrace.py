#!/usr/bin/env python3
"""fantrace.py PERF_DATA: where parkblf's time goes in its fan-outs.

PERF_DATA is a `perf record` of these system call tracepoints on parkblf
(-p PID) while the load generator runs fan-out rounds only (set-up
before the record starts; `loadgen ... -f 40 -T 0 -S 0 -W 0`):

  perf record -e syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,\\
syscalls:sys_enter_sendmmsg,syscalls:sys_exit_sendmmsg -p PID

A fan-out starts at the upstream NOTIFY's read (libre's recvfrom), whose
200 is the next sendto; its NOTIFYs are the sendmmsg calls after it, up
to 1,000 datagrams.  Prints medians over the fan-outs (from the
NOTIFY's read to the 200, to the first sendmmsg, to the end of the one
that completes 1,000; time inside sendmmsg and between the calls),
then, over the full calls (128 datagrams), the kernel's time per
datagram inside sendmmsg and parkblf's time per watcher between two
calls (the walk: pacing, rendering, writing the NOTIFY, its timer).
Percentiles, not means: on a shared machine a preempted call is an
outlier (docs/BENCHMARKS.md, changes 24 and 25).
"""
import re
import statistics
import subprocess
import sys

FULL = 128                      # txq.c's MAX_MSG
WATCHERS = 1000


def events(path):
    out = subprocess.run(['perf', 'script', '-i', path, '-F',
                          'time,event,trace'], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r'\s*([\d.]+):\s+syscalls:(\S+):\s*(.*)', line)
        if m:
            yield float(m.group(1)) * 1e6, m.group(2), m.group(3)


def fanouts(path):
    fans, cur, read = [], None, None
    for t, ev, args in events(path):
        if ev == 'sys_enter_recvfrom':
            read = t
        elif ev == 'sys_enter_sendto' and read is not None:
            if cur:
                fans.append(cur)
            cur = {'read': read, 'ok': t, 'calls': []}
            read = None
        elif ev == 'sys_enter_sendmmsg' and cur:
            vlen = int(re.search(r'vlen: (0x[0-9a-f]+)', args).group(1), 16)
            cur['calls'].append([t, None, vlen])
        elif (ev == 'sys_exit_sendmmsg' and cur and cur['calls'] and
              cur['calls'][-1][1] is None):
            cur['calls'][-1][1] = t
    if cur:
        fans.append(cur)
    return fans


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float('nan')


def main():
    rows, per_dgram, per_watcher = [], [], []
    for f in fanouts(sys.argv[1]):
        calls = [c for c in f['calls'] if c[1] is not None]
        used, n = [], 0
        for c in calls:
            used.append(c)
            n += c[2]
            if n >= WATCHERS:
                break
        if n < WATCHERS:
            continue
        inside = sum(c[1] - c[0] for c in used)
        rows.append((f['ok'] - f['read'], used[0][0] - f['read'],
                     used[-1][1] - f['read'], inside,
                     used[-1][1] - used[0][0] - inside))
        per_dgram += [(c[1] - c[0]) / FULL for c in used if c[2] == FULL]
        per_watcher += [(b[0] - a[1]) / FULL
                        for a, b in zip(used, used[1:]) if b[2] == FULL]
    if not rows:
        sys.exit('fantrace: no fan-out of %d in %s' % (WATCHERS, sys.argv[1]))

    def med(i):
        return statistics.median(r[i] for r in rows)

    print('fan-outs=%d read_to_200_us=%.0f read_to_first_send_us=%.0f '
          'read_to_last_send_us=%.0f in_sendmmsg_us=%.0f between_us=%.0f'
          % (len(rows), med(0), med(1), med(2), med(3), med(4)))
    print('per_datagram_in_sendmmsg_us p10=%.2f p25=%.2f p50=%.2f '
          'walk_per_watcher_us p10=%.3f p25=%.3f p50=%.3f'
          % (pct(per_dgram, .1), pct(per_dgram, .25), pct(per_dgram, .5),
             pct(per_watcher, .1), pct(per_watcher, .25),
             pct(per_watcher, .5)))


if __name__ == '__main__':
    main()
