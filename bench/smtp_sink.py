"""An SMTP server that accepts every message and keeps nothing but a count:
the far end of the broadcast benchmark. Run as a process of its own."""
import argparse
import signal
import threading

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    controller = Controller(CountingSink(), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
