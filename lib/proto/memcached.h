/* memcached's wire protocol for rtvnet's open-loop client: request
 * encoders, a reply parser, the UDP frame header, the key names and their
 * popularity, and the server's command line.
 *
 * Everything here but rtv_mc_keys_init() and rtv_mc_server_argv() runs on
 * the client's send and receive paths: no I/O, no allocation, no locks, no
 * system call. The parser reads only the len bytes it is given, each at
 * most a bounded number of times, and returns in O(len).
 *
 * Two text protocols are spoken (memcached's doc/protocol.txt), checked
 * against memcached 1.6.18 (Debian 12), whose replies are captured in
 * tests/unit/data/memcached/:
 *   ASCII  get KEY\r\n              VALUE KEY 0 LEN\r\nDATA\r\nEND\r\n | END\r\n
 *          set KEY 0 0 LEN\r\nDATA\r\n     STORED\r\n | NOT_STORED\r\n
 *   meta   mg KEY v O<opaque>\r\n   VA LEN O<opaque>\r\nDATA\r\n | EN O<opaque>\r\n
 *          ms KEY LEN O<opaque>\r\nDATA\r\n        HD O<opaque>\r\n | NS O<opaque>\r\n
 * Any of them may instead be answered by ERROR\r\n (an unknown command),
 * CLIENT_ERROR <text>\r\n or SERVER_ERROR <text>\r\n (e.g. "object too large
 * for cache"). 1.6.18 echoes the opaque on a miss too ("EN O7"), so meta
 * replies can be matched to requests whatever their order; ASCII replies
 * carry no request id and come in request order on a connection.
 *
 * Over UDP each datagram starts with an 8-byte frame header (request id,
 * sequence number, total datagrams, reserved: network order); a request is
 * one datagram (seq 0, total 1). 1.6.18 sends datagrams of at most 1400
 * bytes, header included: a reply of up to 1392 bytes (an ASCII hit on a
 * rtv_mc_key() name with a value of up to 1356 bytes, a meta one of up to
 * about 1370) comes in one datagram; a longer one as `total` datagrams of
 * the same id whose payloads, joined in seq order, are the reply as it
 * would come over TCP (a 5000-byte value: 4 datagrams). Meta commands work
 * over UDP too (mg, ms: the opaque is echoed as over TCP).
 */
#ifndef RTV_PROTO_MEMCACHED_H
#define RTV_PROTO_MEMCACHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RTV_MC_UDP_HDR    8          /* bytes of the UDP frame header */
#define RTV_MC_UDP_DGRAM_MAX 1400    /* the longest datagram 1.6.18 sends, header included */
#define RTV_MC_KEY_MAX    250        /* memcached's KEY_MAX_LENGTH */
#define RTV_MC_KEY_LEN    14         /* rtv_mc_key()'s names: "rtv:" and 10 digits */
/* Longest reply line accepted (\r\n included); a buffer holding this many
 * bytes with no \r\n is malformed. A VALUE line is at most
 * 6 + 250 + 1 + 10 + 1 + 20 + 1 + 20 + 2 = 311 bytes. */
#define RTV_MC_LINE_MAX   1024
/* Largest value length accepted in a reply (memcached's -I is at most 1 GiB);
 * a larger declared length is malformed. */
#define RTV_MC_VALUE_MAX  (UINT32_C(1) << 30)

enum rtv_mc_proto { RTV_MC_ASCII, RTV_MC_META };
/* RTV_MC_ANY is for rtv_mc_parse() only: a reply to either, told apart by
 * its status (the words of get and set replies differ, and meta's HD is a
 * set's since rtv_mc_encode()'s mg asks for the value: a hit is VA), for a
 * client matching replies by opaque or UDP id that does not keep the op. */
enum rtv_mc_op { RTV_MC_GET, RTV_MC_SET, RTV_MC_ANY };

enum rtv_mc_status {
	RTV_MC_HIT,          /* get: VALUE ... END, or meta VA (HD: a hit with no value) */
	RTV_MC_MISS,         /* get: END alone, or meta EN */
	RTV_MC_STORED,       /* set: STORED, or meta HD */
	RTV_MC_NOT_STORED,   /* set: NOT_STORED/EXISTS/NOT_FOUND, or meta NS/EX/NF */
	RTV_MC_ERROR,        /* ERROR: the server did not know the command */
	RTV_MC_CLIENT_ERROR, /* CLIENT_ERROR <text> */
	RTV_MC_SERVER_ERROR, /* SERVER_ERROR <text> */
};

/* One request into buf (cap bytes), for protocol p:
 *   ASCII get: get KEY\r\n             ASCII set: set KEY 0 0 VLEN\r\nVALUE\r\n
 *   meta get:  mg KEY v O<opaque>\r\n  meta set:  ms KEY VLEN O<opaque>\r\nVALUE\r\n
 * (flags 0, no expiry). The ASCII forms ignore opaque; gets ignore value
 * and vlen (value may then be NULL). Returns the request's length, -ENOSPC
 * when it does not fit in cap (nothing written), -EINVAL for a bad
 * key (empty, longer than RTV_MC_KEY_MAX, or holding a byte <= 0x20 or
 * 0x7f), a vlen above RTV_MC_VALUE_MAX, or an unknown p or op (RTV_MC_ANY
 * included). */
ssize_t rtv_mc_encode(enum rtv_mc_proto p, enum rtv_mc_op op, const char *key, size_t keylen,
		      const unsigned char *value, size_t vlen, uint32_t opaque,
		      unsigned char *buf, size_t cap);

/* What rtv_mc_parse() found. Offsets are from the start of the buffer
 * parsed; nothing points into it. */
struct rtv_mc_reply {
	enum rtv_mc_status status;
	bool has_opaque;     /* a meta reply that echoed O<opaque> */
	uint32_t opaque;
	size_t value_len;    /* a hit's data length (0 otherwise) */
	size_t value_off;    /* where a hit's data starts (0 otherwise) */
	size_t key_off;      /* the key a reply names (ASCII VALUE, meta k flag): */
	size_t key_len;      /*   its offset and length; key_len 0 when none */
	/* when rtv_mc_parse() returns 0: the whole reply's length once its
	 * first line is complete (a hit waiting for its data), else 0 (not
	 * known yet); a caller whose buffer is shorter can never complete it.
	 * With need > 0 the fields above are already filled from that first
	 * line (status, opaque, value_len, key): enough to match the first
	 * datagram of a reply split over several, or one read truncated. */
	size_t need;
};

/* Parse the one reply at the start of buf (len bytes, a TCP stream's or a
 * reassembled UDP reply's bytes: a part of one reply, or one or several
 * replies). op is the request it answers (RTV_MC_ANY: either), and a reply
 * to the other is malformed. Returns the bytes the reply takes
 * (> 0, <= len) and fills r; 0 when buf holds only a prefix of a reply
 * (read more; r->need may say how much); -EBADMSG when buf cannot start a
 * reply to op: an unknown or misplaced reply word, a bad or too large
 * number, a line of RTV_MC_LINE_MAX bytes without \r\n, a \n without \r or
 * a \r within a line, a value not followed by \r\n (or, in ASCII, by
 * END\r\n). A prefix of a valid reply never gives -EBADMSG; one already
 * wrong may give it before its line ends. ASCII's CLIENT_ERROR for a bad
 * data chunk is followed by an ERROR for the rest of the line the server
 * skipped: two replies. */
ssize_t rtv_mc_parse(enum rtv_mc_proto p, enum rtv_mc_op op, const unsigned char *buf,
		     size_t len, struct rtv_mc_reply *r);

/* The UDP frame header (memcached's protocol.txt, "UDP protocol"). */
struct rtv_mc_udp_hdr {
	uint16_t id;       /* request id, echoed in every datagram of the reply */
	uint16_t seq;      /* sequence number, 0 .. total - 1 */
	uint16_t total;    /* datagrams in the message */
	uint16_t reserved; /* 0 */
};

/* Write a request's frame header (id, seq 0, total 1, reserved 0) into the
 * RTV_MC_UDP_HDR bytes at p; the request follows it. */
void rtv_mc_udp_put(unsigned char *p, uint16_t id);

/* Read the frame header at the start of a datagram of len bytes into h.
 * Returns 0, or -EBADMSG when len < RTV_MC_UDP_HDR, total is 0 or
 * seq >= total. */
int rtv_mc_udp_get(const unsigned char *p, size_t len, struct rtv_mc_udp_hdr *h);

/* Key number i's name, "rtv:" and i in 10 decimal digits with leading
 * zeros ("rtv:0000000042"), into buf (not NUL-terminated). Returns
 * RTV_MC_KEY_LEN, or 0 when cap is shorter. */
size_t rtv_mc_key(uint32_t i, char *buf, size_t cap);

/* Key popularity over n keys: uniform, or Zipf with exponent s, P(k)
 * proportional to 1 / (k + 1)^s, key 0 the most popular. Zipf draws use
 * Walker's alias table (one entry of 8 bytes per key, 8 MB for a million
 * keys, built once by rtv_mc_keys_init()): a draw is O(1), reads one
 * entry, allocates nothing. Each key's probability is kept to about
 * 2^-32 / n absolute; index and coin come from the same 64-bit number
 * (the integer and fraction parts of u * n / 2^64), so the draws are as
 * good as u's 64 bits. Read-only after init: any number of threads may draw. */
struct rtv_mc_alias {
	uint32_t thresh; /* keep this key when the coin (32 bits) is below */
	uint32_t alias;  /* the key drawn otherwise */
};

struct rtv_mc_keys {
	uint32_t n;
	double s;                   /* 0: uniform */
	struct rtv_mc_alias *table; /* n entries, NULL when uniform */
};

/* Set k up for n keys (n >= 1) and exponent zipf_s (0: uniform, else
 * finite and > 0). Returns 0, -EINVAL, or -ENOMEM. Free with
 * rtv_mc_keys_free(). */
int rtv_mc_keys_init(struct rtv_mc_keys *k, uint32_t n, double zipf_s);

/* A key number in [0, n) from u, a uniform 64-bit random number. */
uint32_t rtv_mc_keys_draw(const struct rtv_mc_keys *k, uint64_t u);

/* Free k's table; accepts NULL and a zeroed or already freed k. */
void rtv_mc_keys_free(struct rtv_mc_keys *k);

/* argv to run memcached in the foreground (it daemonizes only with -d and
 * reads no configuration file) serving TCP and UDP on addr:port:
 *   PATH -l ADDR -p PORT -U PORT -t THREADS -m 64 -c 1024 [-u root]
 * -u root only when the caller's effective uid is 0 (memcached refuses to
 * run as root without -u). Every string is copied into buf (len bytes);
 * argv (maxargv entries) gets the pointers and a final NULL. Returns the
 * number of arguments (argc), -EINVAL for an empty path or addr, port 0 or
 * threads < 1, -ENOSPC when buf or argv is too short. */
int rtv_mc_server_argv(const char *memcached_path, const char *addr, uint16_t port, int threads,
		       char *buf, size_t len, char **argv, int maxargv);

#endif
