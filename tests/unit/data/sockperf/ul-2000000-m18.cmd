sockperf under-load -i 127.0.0.1 -p 17711 --mps 2000000 -m 18 -t 2 --full-rtt --reply-every 1
exit 0
