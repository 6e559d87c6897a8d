#!/usr/bin/env python3
# Captures memcached's exact replies into this folder (*.bin), as used by
# tests/unit/test_mcproto.c. Run it with a memcached listening on
# 127.0.0.1:PORT (TCP and UDP), e.g.
#   memcached -l 127.0.0.1 -p PORT -U PORT -t 1 -m 64 -c 1024 [-u root] &
#   python3 capture.py PORT
# Each file holds the bytes read after one request, until the server went
# quiet for 300 ms; the request each answers is the one sent in its save().
import socket, struct, sys, time

port = int(sys.argv[1])
out = sys.argv[2] if len(sys.argv) > 2 else '.'

def tcp(req):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(req)
    s.settimeout(0.3)
    data = b''
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    s.close()
    return data

def save(name, data):
    with open(f'{out}/{name}.bin', 'wb') as f:
        f.write(data)
    print(f'{name}: {data!r}'[:200])

value = b'hello memcached'
tcp(b'delete rtv:miss\r\n')
save('ascii-set', tcp(b'set rtv:0000000001 0 0 %d\r\n%s\r\n' % (len(value), value)))
save('ascii-get-hit', tcp(b'get rtv:0000000001\r\n'))
save('ascii-get-miss', tcp(b'get rtv:miss\r\n'))
save('ascii-error', tcp(b'bogus rtv:0000000001\r\n'))
# 3 bytes declared, 5 sent: the server reads 3 + 2 and finds no \r\n
save('ascii-client-error', tcp(b'set rtv:0000000002 0 0 3\r\nabcde\r\n'))
big = 2 * 1024 * 1024
save('ascii-server-error', tcp(b'set rtv:0000000003 0 0 %d\r\n' % big + b'x' * big + b'\r\n'))
save('meta-set', tcp(b'ms rtv:0000000004 %d O305419896\r\n%s\r\n' % (len(value), value)))
save('meta-get-hit', tcp(b'mg rtv:0000000004 v O305419896\r\n'))
save('meta-get-miss', tcp(b'mg rtv:miss v O4294967295\r\n'))
save('meta-get-hit-k', tcp(b'mg rtv:0000000004 v k O7\r\n'))
save('meta-set-too-large', tcp(b'ms rtv:0000000005 %d O9\r\n' % big + b'x' * big + b'\r\n'))

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(1)
u.sendto(struct.pack('!HHHH', 0x1234, 0, 1, 0) + b'get rtv:0000000001\r\n', ('127.0.0.1', port))
save('udp-get-hit', u.recvfrom(65536)[0])
u.sendto(struct.pack('!HHHH', 0x4321, 0, 1, 0) + b'mg rtv:miss v O77\r\n', ('127.0.0.1', port))
save('udp-meta-get-miss', u.recvfrom(65536)[0])
