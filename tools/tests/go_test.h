/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What go_test.c (GOMEMLIMIT parsing, the ELF reader and its fuzzing) and
 * goverbs_test.c (discover, tag --go and show against a /proc tree of
 * their own and the fake kernel) share.
 */
#ifndef GOMEMCTL_TESTS_GO_TEST_H
#define GOMEMCTL_TESTS_GO_TEST_H

#include <stdbool.h>
#include <stddef.h>

/* An ELF executable made up for the test: Go build info as a linker lays it out. */
struct synth {
	bool is64, be;
	bool inline_strings;	/* Go 1.18+; else pointers (Go 1.13..1.17) */
	bool sections;		/* section headers, with .go.buildinfo */
	bool note;		/* a PT_NOTE with the Go build ID */
	const char *version;	/* NULL: no build info at all */
	const char *path, *module;
};

/* The file's bytes (malloc'ed, exactly *len of them). */
unsigned char *synth_elf(const struct synth *s, size_t *len);

/* The Go and C executables the tests read; NULL when not built. */
struct go_bins {
	const char *go;		/* build/workloads/gosleep: Go 1.19, static */
	const char *cgo;	/* build/workloads/cgoleak: Go 1.19, cgo */
	const char *c;		/* a C program without Go's magic in it */
	const char *fuse;	/* build/workloads/leaky: Go 1.19, go/fuse */
};

size_t goverbs_test_count(void);
/* skip: why nothing can run (no netlink socket), or NULL. */
void goverbs_test_run(const struct go_bins *bins, const char *skip);

#endif /* GOMEMCTL_TESTS_GO_TEST_H */
