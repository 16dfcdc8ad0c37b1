/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is an executable a Go program, and which Go built it?  Read from the ELF
 * file itself, never from a process's name: the .go.buildinfo blob that
 * "go version -m" reads (Go 1.18+ with the strings inline, older ones
 * through pointers into the data segment), and the Go build-ID note (owner
 * "Go", type 4) every Go linker has written.  ELF32 and ELF64, either byte
 * order.
 *
 * The file is untrusted: every offset, size and count in it is checked
 * against the file's size before it is followed, tables and strings are
 * read with bounded sizes, and a file that changes while it is read is
 * just malformed.
 */
#ifndef GOMEMCTL_GOELF_H
#define GOMEMCTL_GOELF_H

#include <stdbool.h>
#include <stddef.h>

/* Sizes with the NUL; longer strings are cut. */
#define GOELF_VERSION_MAX 64
#define GOELF_PATH_MAX 256

struct goelf_info {
	char version[GOELF_VERSION_MAX];	/* "go1.19.8"; "": unknown */
	char path[GOELF_PATH_MAX];	/* main package ("path" line); "" */
	char module[GOELF_PATH_MAX];	/* main module ("mod" line); "" */
	/*
	 * Built with GOELF_FUSE_MODULE (a "dep" line, or the main module):
	 * the program can take gomemguard's fuse.  False when the build
	 * info does not say (cut off, or no build info).
	 */
	bool uses_fuse;
};

/* The Go package that receives the fuse (go/fuse). */
#define GOELF_FUSE_MODULE "gomemguard.dev/fuse"

/*
 * Reads the ELF file open at fd (from its start, with pread).  Returns 0 for
 * a Go program, with what the build info says (all "" when only the build
 * ID note marks it as Go); -ENOEXEC for anything else (not ELF, truncated
 * or malformed beyond recognition, no Go marks); another -errno when the
 * file could not be read.  The strings are printable ASCII.
 */
int goelf_read_fd(int fd, struct goelf_info *gi);

/* The same for a file's len bytes in memory. */
int goelf_read_mem(const void *buf, size_t len, struct goelf_info *gi);

/*
 * Whether version ("go1.19.8", "go1.21rc2", "devel go1.22-abcdef ...") is
 * Go major.minor or later: 1 or 0, or -1 when it does not say.
 */
int goelf_version_at_least(const char *version, unsigned int major,
			   unsigned int minor);

#endif /* GOMEMCTL_GOELF_H */
