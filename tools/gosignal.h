/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fuse signal for a Go program: whether the program handles it cannot be
 * told from outside -- Go's runtime catches every signal, so SigCgt says
 * nothing about signal.Notify -- unless it was built with go/fuse.  tag and
 * set say so, and what Go does with the signal if the program did not ask
 * for it.
 */
#ifndef GOMEMCTL_GOSIGNAL_H
#define GOMEMCTL_GOSIGNAL_H

#include <stdint.h>

#include "goelf.h"

/* For a process already read (tag --go): gi is its executable's. */
void gosignal_warn_info(const char *verb, uint32_t pid, const char *comm,
			const struct goelf_info *gi, uint32_t sig);

/* The same, reading pid's executable; nothing for other programs. */
void gosignal_warn(const char *verb, uint32_t pid, uint32_t sig);

#endif /* GOMEMCTL_GOSIGNAL_H */
