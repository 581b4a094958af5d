"""An SMTP server that accepts every message and keeps nothing but a count:
the far end of the broadcast and mail latency benchmarks. Run as a process
of its own. With --record FILE it also appends, for each recipient of each
message, a line "<arrival wall-clock time (time.time())>\\t<recipient>"."""
import argparse
import signal
import threading
import time

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self, record=None):
        self.count = 0
        self.record = record

    async def handle_DATA(self, server, session, envelope):
        arrived = time.time()
        self.count += 1
        if self.record:
            self.record.write("".join(f"{arrived:.6f}\t{rcpt}\n" for rcpt in envelope.rcpt_tos))
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", help="append arrival time and recipient of each message to this file")
    args = parser.parse_args()
    record = open(args.record, "a", buffering=1) if args.record else None  # line-buffered: readable while running
    controller = Controller(CountingSink(record), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    if record:
        record.close()


if __name__ == "__main__":
    main()
