#!/usr/bin/env python3
"""A TCP relay that holds every byte for a fixed delay in each direction: a path with added
latency for tests, on a kernel without netem (TCPDelayRelayTests).

    delay_relay.py LISTEN_HOST LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_MS DEADLINE_S

Prints "ready" once listening. Each accepted connection gets one upstream connection; what
arrives on either side is sent on to the other DELAY_MS after it arrived, in order. Ends after
DEADLINE_S seconds (the test kills it sooner). At most 64 connections.
"""
import collections
import socket
import sys
import threading
import time


def pump(src, dst, delay, stop):
    """Reads src; a sender thread writes each chunk to dst once it is `delay` old."""
    queue = collections.deque()
    ready = threading.Condition()
    done = [False]

    def sender():
        while True:
            with ready:
                while not queue and not done[0]:
                    ready.wait(0.5)
                if not queue:
                    break
                due, data = queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    while not stop.is_set():
        try:
            data = src.recv(65536)
        except OSError:
            break
        if not data:
            break
        with ready:
            queue.append((time.monotonic() + delay, data))
            ready.notify()
    with ready:
        done[0] = True
        ready.notify()
    t.join(5 + delay)


def main():
    host, port, up_host, up_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    delay = float(sys.argv[5]) / 1000
    deadline = float(sys.argv[6])
    if not (0 <= delay <= 10 and 0 < deadline <= 3600 and 0 < port < 65536 and 0 < up_port < 65536):
        sys.exit("delay_relay: out of range")
    stop = threading.Event()
    threading.Timer(deadline, stop.set).start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(16)
    listener.settimeout(0.2)
    print("ready", flush=True)
    connections = 0
    while not stop.is_set() and connections < 64:
        try:
            client, _ = listener.accept()
        except socket.timeout:
            continue
        connections += 1
        upstream = socket.create_connection((up_host, up_port), timeout=5)
        upstream.settimeout(None)
        client.settimeout(None)
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, upstream, delay, stop), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, delay, stop), daemon=True).start()
    stop.wait()
    listener.close()


if __name__ == "__main__":
    main()
