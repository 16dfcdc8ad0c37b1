#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Subscribe to gomemguard's events with the kernel's ynl library and wait
for one: selftests/ynl_test.sh's listener.

Usage: ynl_events.py --ynl DIR --spec FILE [--schema FILE] --pid PID
                     --event NAME [--timeout SECONDS]

Sends events-subscribe (ynl always asks for an ACK; events that come before
it are kept as notifications, which ynl does itself), prints
"subscribed SEQ" once the reply is in, then reads the socket until an event
of kind NAME about PID arrives: prints it as one JSON line and exits 0.
Exits 1 on a timeout, printing what did arrive.  Events are unicast to the
subscribed socket, not multicast, so ynl's ntf_subscribe() (a multicast
group) is not used: check_ntf() reads them all the same.
"""
import argparse
import json
import select
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ynl', required=True, help='tools/net/ynl of a kernel tree')
    p.add_argument('--spec', required=True)
    p.add_argument('--schema', default='')
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--event', required=True)
    p.add_argument('--timeout', type=float, default=10)
    args = p.parse_args()

    sys.path.insert(0, args.ynl)
    from lib import YnlFamily

    ynl = YnlFamily(args.spec, args.schema)
    reply = ynl.do('events-subscribe', {})
    seq = reply['seq']
    print('subscribed %d' % seq, flush=True)

    seen = []
    deadline = time.monotonic() + args.timeout
    while True:
        ynl.check_ntf()
        while ynl.async_msg_queue:
            ntf = ynl.async_msg_queue.pop(0)
            seen.append(ntf)
            msg = ntf['msg']
            if ntf['name'] != 'event' or msg.get('seq', 0) <= seq:
                continue
            if msg.get('event') == args.event and msg.get('pid') == args.pid:
                print(json.dumps(msg, default=lambda o: o.hex() if isinstance(o, bytes) else list(o)),
                      flush=True)
                return 0
        left = deadline - time.monotonic()
        if left <= 0:
            break
        select.select([ynl.sock], [], [], min(left, 0.5))
    print('no %s event for %d within %g s; got: %r' % (args.event, args.pid, args.timeout, seen))
    return 1


if __name__ == '__main__':
    sys.exit(main())
