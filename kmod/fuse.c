// SPDX-License-Identifier: GPL-2.0
/*
 * The memory fuse: a signal the module sends to a process when it crosses
 * its soft limit.  The module sends it with its own (kernel) privilege, so
 * it must only ever send what the caller who armed it could have sent with
 * kill(2) -- CAP_NET_ADMIN, which tagging needs, is not a right to signal
 * PID 1 or sshd.
 *
 * The caller who names a process is checked as kill(2) checks it
 * (kill_pid() with signal 0, from the caller's context: credentials, LSMs,
 * audit).  Processes a cgroup tag or INHERIT brings in later, and every
 * process again before each signal (a setuid exec changes who it is), are
 * checked against the setter's credentials as recorded when the fuse was
 * armed: kill(2)'s rule -- the setter's real or effective UID is the
 * target's real or saved UID, or the setter had CAP_KILL (in the initial
 * user namespace).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <net/netlink.h>

#include "gomemguard.h"

/* A stopped service looks alive to everything that watches it, and serves nothing. */
bool gmg_fuse_signal_ok(u32 sig)
{
	return sig && sig <= GOMEMGUARD_SIGNAL_MAX &&
	       sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
	       sig != SIGTTOU;
}

/* The setter is current: what its credentials allow, kept for later checks. */
void gmg_fuse_signer(struct gmg_signer *signer)
{
	const struct cred *cred = current_cred();

	signer->uid = cred->uid;
	signer->euid = cred->euid;
	signer->cap_kill = ns_capable_noaudit(&init_user_ns, CAP_KILL);
}

int gmg_fuse_check(struct task_struct *task, u32 sig,
		   struct netlink_ext_ack *extack)
{
	int err;

	if (!gmg_fuse_signal_ok(sig)) {
		NL_SET_ERR_MSG(extack,
			       "stop signals are refused: a stopped process looks alive and serves nothing");
		return -EINVAL;
	}
	/* Signal 0: kill(2)'s own permission check, delivering nothing. */
	err = kill_pid(task_tgid(task), 0, 0);
	if (err == -EPERM) {
		NL_SET_ERR_MSG(extack,
			       "you may not signal this process (kill(2) needs the same user ID or CAP_KILL): no fuse for it");
		return -EPERM;
	}
	if (err) {
		NL_SET_ERR_MSG(extack, "process is exiting");
		return -ESRCH;
	}
	return 0;
}

bool gmg_fuse_allowed(const struct gmg_signer *signer, struct task_struct *task)
{
	const struct cred *tcred = __task_cred(task);

	return signer->cap_kill ||
	       uid_eq(signer->euid, tcred->suid) ||
	       uid_eq(signer->euid, tcred->uid) ||
	       uid_eq(signer->uid, tcred->suid) ||
	       uid_eq(signer->uid, tcred->uid);
}

/* Process context. */
bool gmg_fuse_fire(struct pid *pid, const struct gmg_settings *set)
{
	struct task_struct *task;
	bool allowed;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	allowed = task && gmg_fuse_signal_ok(set->signal) &&
		  gmg_fuse_allowed(&set->signer, task);
	rcu_read_unlock();
	if (!allowed)
		return false;
	/* Checked above, as kill(2) would: sent with the kernel's right. */
	return !kill_pid(pid, set->signal, 1);
}
