/* The fuzz targets' driver for gcc builds (driver.h). */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 1;

void rtv_fuzz_seed(uint64_t seed)
{
	rng = seed ? seed : 1;
}

uint64_t rtv_fuzz_next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t mutate(const struct rtv_fuzz_target *t, uint8_t *buf, size_t len)
{
	for (int n = 1 + (int)(rtv_fuzz_next() % 6); n--;) {
		size_t pos = len ? rtv_fuzz_next() % (len + 1) : 0;

		switch (rtv_fuzz_next() % 4) {
		case 0: /* flip a byte */
			if (len)
				buf[pos % len] = (uint8_t)rtv_fuzz_next();
			break;
		case 1: { /* splice a token */
			const char *tok = t->tokens[rtv_fuzz_next() % t->ntokens];
			size_t tl = strlen(tok);

			if (len + tl <= t->cap) {
				memmove(buf + pos + tl, buf + pos, len - pos);
				memcpy(buf + pos, tok, tl);
				len += tl;
			}
			break;
		}
		case 2: { /* delete a span */
			size_t d = rtv_fuzz_next() % 8;

			if (pos + d <= len) {
				memmove(buf + pos, buf + pos + d, len - pos - d);
				len -= d;
			}
			break;
		}
		default: /* truncate, rarely */
			if (!(rtv_fuzz_next() % 8))
				len = pos;
			break;
		}
	}
	return len;
}

static int replay(const char *name, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len = -1;

	if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		return 0;
	}
	fprintf(stderr, "%s: cannot read '%s'\n", name, path);
	free(buf);
	if (f)
		fclose(f);
	return 1;
}

int rtv_fuzz_main(const struct rtv_fuzz_target *t, int argc, char **argv)
{
	uint8_t *buf = malloc(t->cap);
	long runs = -1;
	uint64_t seed = 1;
	int ret = 0;

	if (!buf)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else
			ret |= replay(t->name, argv[i]);
	}
	if (runs >= 0) {
		rtv_fuzz_seed(seed);
		for (long r = 0; r < runs; r++) {
			const char *s = t->seeds[(size_t)r % t->nseeds];
			size_t len = strlen(s);

			if (len > t->cap)
				len = t->cap;
			memcpy(buf, s, len);
			if ((size_t)r >= t->unchanged)
				len = mutate(t, buf, len);
			LLVMFuzzerTestOneInput(buf, len);
		}
		printf("%s: %ld inputs%s, seed %llu, no invariant broken\n", t->name, runs,
		       t->counts ? t->counts() : "", (unsigned long long)seed);
	}
	free(buf);
	return ret;
}
