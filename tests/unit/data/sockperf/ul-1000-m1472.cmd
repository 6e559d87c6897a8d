sockperf under-load -i 127.0.0.1 -p 17711 --mps 1000 -m 1472 -t 2 --full-rtt --reply-every 1
exit 0
