"""An HTTP/1.1 client that sends its requests and then does not read, until told to.

Usage: /usr/bin/python3 non_reading_client.py HOST PORT REQUESTS_HEX [CA_FILE]
With CA_FILE it speaks TLS, trusting that CA.
It connects with a small receive buffer and a small MSS, both set before connecting (Node can set neither), so
that the server's kernel holds little for it (on loopback a sender's buffer is sized from the MSS, 64 kB there). It
sends the requests (raw bytes, hex: several requests pipelined), prints "sent", and reads nothing until a line
arrives on stdin; then it reads to the end and prints one JSON line: the bytes it got, how many gRPC statuses they
hold (one per finished gRPC-Web call), and the error that ended the reading (null for a clean end of stream).
Uses only the standard library.
"""
import json
import socket
import ssl
import sys


def main():
    host, port, request_hex = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 88)
    sock.connect((host, port))
    if len(sys.argv) > 4:
        sock = ssl.create_default_context(cafile=sys.argv[4]).wrap_socket(sock, server_hostname=host)
    sock.sendall(bytes.fromhex(request_hex))
    print('sent', flush=True)
    sys.stdin.readline()
    sock.settimeout(30)
    data = bytearray()
    error = None
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        error = type(e).__name__
    print(json.dumps({'bytes': len(data), 'statuses': data.count(b'grpc-status'), 'error': error}), flush=True)


main()
