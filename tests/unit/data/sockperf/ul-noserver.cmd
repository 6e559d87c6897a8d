sockperf under-load -i 127.0.0.1 -p 17711 --mps 1000 -m 18 -t 1 --full-rtt --reply-every 1
exit 0
