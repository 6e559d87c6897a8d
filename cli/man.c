/* rtvnet help --man PAGE: the man pages' generated parts, at build time.
 * cli/meson.build pipes each hand-written page (cli/rtvnet-CMD.8.scd)
 * through it and the result through scdoc, so that every page's OPTIONS
 * section is the option tables themselves, and a page that lacks its
 * marker or cites an rtvnet page that does not exist fails the build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/banned.h"

#define OPTIONS_MARKER  "%OPTIONS%"
#define COMMANDS_MARKER "%COMMANDS%"

static const struct rtv_cmd *find_cmd(const struct rtv_cmd *cmds, size_t n, const char *name,
				      size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(cmds[i].name) == len && !strncmp(cmds[i].name, name, len))
			return &cmds[i];
	return NULL;
}

/* The OPTIONS section: the command's table, or for a command with sub-words
 * one subsection per mode ("## rtvnet netrt client"). */
static void print_options(FILE *out, const struct rtv_cmd *cmd)
{
	const struct rtv_cmd_mode *m;

	fprintf(out, "# OPTIONS\n\n");
	for (m = cmd->modes; m->usage; m++) {
		if (!m->opts)
			continue; /* the overview of a command with sub-words */
		if (m->name)
			fprintf(out, "## rtvnet %s %s\n\n", cmd->name, m->name);
		rtv_opts_scdoc(out, m->opts);
	}
}

/* The list of commands for rtvnet(8). */
static void print_commands(FILE *out, const struct rtv_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "*%s*\n\t%s; see *rtvnet-%s*(8).\n\n", cmds[i].name, cmds[i].summary,
			cmds[i].name);
}

/* Every "rtvnet-WORD(8)" in line (scdoc markup such as "*rtvnet-x*(8)"
 * allowed) must name a command; 0 or -ENOENT with the message printed. */
static int check_refs(const char *page, int lineno, const char *line, const struct rtv_cmd *cmds,
		      size_t n)
{
	const char *p = line, *word, *q;
	size_t len;
	int err = 0;

	while ((p = strstr(p, "rtvnet-"))) {
		word = p + strlen("rtvnet-");
		for (q = word; (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'); q++)
			;
		len = (size_t)(q - word);
		while (*q == '*' || *q == '_')
			q++;
		if (!strncmp(q, "(8)", 3) && !find_cmd(cmds, n, word, len)) {
			rtv_cli_error("%s, line %d: cites rtvnet-%.*s(8), which does not exist "
				      "(no command '%.*s')", page, lineno, (int)len, word, (int)len, word);
			err = -ENOENT;
		}
		p = q;
	}
	return err;
}

int rtv_cli_man(const struct rtv_cmd *cmds, size_t n, const char *page, FILE *in, FILE *out)
{
	const struct rtv_cmd *cmd = NULL;
	const char *marker = COMMANDS_MARKER;
	char *line = NULL, file[128];
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, found = 0, err = 0;

	if (strcmp(page, "rtvnet")) {
		cmd = find_cmd(cmds, n, page, strlen(page));
		if (!cmd) {
			rtv_cli_error("'%s' is not an rtvnet command: no page to make", page);
			return RTV_EXIT_USAGE;
		}
		marker = OPTIONS_MARKER;
	}
	snprintf(file, sizeof(file), "%s%s.8.scd", cmd ? "rtvnet-" : "", page);
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (check_refs(file, lineno, line, cmds, n) < 0)
			err = -ENOENT;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strcmp(line, marker)) {
			fprintf(out, "%s\n", line);
			continue;
		}
		found++;
		if (cmd)
			print_options(out, cmd);
		else
			print_commands(out, cmds, n);
	}
	free(line);
	if (ferror(in)) {
		rtv_cli_error("cannot read '%s': %s", file, strerror(errno));
		return RTV_EXIT_FAIL;
	}
	if (found != 1) {
		rtv_cli_error("%s has %s line '%s' where the generated %s go", file,
			      found ? "more than one" : "no", marker, cmd ? "options" : "commands");
		err = -EINVAL;
	}
	return err ? RTV_EXIT_FAIL : RTV_EXIT_OK;
}
