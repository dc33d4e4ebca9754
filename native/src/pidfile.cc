// SPDX-License-Identifier: Apache-2.0
// POSIX record locks on pid files, as OVS's daemon-unix.c takes them: ovs-appctl -t NAME
// (and ovs-ctl) trust <rundir>/NAME.pid only while a live process holds an fcntl write
// lock on it, and read the holder from F_GETLK. Node has no fcntl, hence this.
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

namespace xsw {

// pidfileLock(fd) → 0 when this process now holds a write lock on the whole file, or the
// pid of the process that holds it (EAGAIN/EACCES). Other failures throw NativeError.
static Napi::Value PidfileLock(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int fd = ArgI32(info, 0, "fd");
	struct flock lk = {};
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &lk) == 0)
		return Napi::Number::New(env, 0);
	int err = errno;
	if (err != EAGAIN && err != EACCES)
		return ThrowErrno(env, "fcntl(F_SETLK)", err);
	struct flock q = {};
	q.l_type = F_WRLCK;
	q.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &q) != 0)
		return ThrowErrno(env, "fcntl(F_GETLK)", errno);
	// The holder may have let go in between: report "someone" rather than retrying here.
	return Napi::Number::New(env, q.l_type == F_UNLCK ? -1 : q.l_pid);
}

void InitPidfile(Napi::Env env, Napi::Object exports)
{
	exports.Set("pidfileLock", Napi::Function::New(env, PidfileLock));
}

} // namespace xsw
