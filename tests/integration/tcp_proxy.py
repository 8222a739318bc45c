"""A loopback TCP proxy for the integration tests: forwards every connection to a target port
and can cut all of them at once (both directions, abruptly), the way a network blip does.

Requests already forwarded may have been processed by the broker while their answers are lost,
which is what makes a producer retry a batch the broker already has.
"""

import socket
import threading


class Proxy:
    def __init__(self, listen_port, target_port):
        self.target_port = target_port
        self.lock = threading.Lock()
        self.pairs = []
        self.cuts = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.listen(128)
        self.closed = False
        self.dropping = threading.Event()  # answers (broker -> client) are thrown away
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, answers):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if answers and self.dropping.is_set():
                    continue
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        src.close()

    def lose_answers_then_cut(self, hold_s):
        """For `hold_s` the broker's answers are thrown away while requests still reach it, then
        every connection is reset: the requests of that window were done, their answers lost."""
        self.dropping.set()
        threading.Event().wait(hold_s)
        self.cut()
        self.dropping.clear()

    def cut(self):
        """Closes every open connection at once, both ways. (shutdown, not close: a close from
        this thread would wait for the pump blocked in recv and the peer would notice nothing.)"""
        with self.lock:
            pairs, self.pairs = self.pairs, []
            self.cuts += 1
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.sock.close()
        self.cut()
