#include "process/child_launch.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

// The child runs on a foreign stack inside otpd's address space, before exec:
// sanitizer instrumentation there would run the sanitizer runtime in a
// process that is half otpd, half not. Only calls into libc remain.
#define OTPD_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

namespace otpd::process {
namespace {

// Room for the child's few frames and libc's syscall wrappers (sanitizer
// interceptors included); pages never touched cost nothing.
constexpr std::size_t kStackSize = 256 * 1024;

// One stack per thread, mapped on first use and reused: the child is gone
// (exec'd or dead) before launch_child returns, so it is free again.
class ChildStack {
 public:
  ChildStack() = default;
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack() {
    if (base_ != nullptr) munmap(base_, size_);
  }

  // The highest address (stacks grow down), or nullptr with errno set.
  void* top() {
    if (base_ == nullptr && !map()) return nullptr;
    return static_cast<char*>(base_) + size_;
  }

 private:
  bool map() {
    const std::size_t guard = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* base = mmap(nullptr, kStackSize + guard, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) return false;
    // A child that overflows must fault, not scribble over otpd's heap.
    if (mprotect(base, guard, PROT_NONE) != 0) {
      munmap(base, kStackSize + guard);
      return false;
    }
    base_ = base;
    size_ = kStackSize + guard;
    return true;
  }

  void* base_ = nullptr;
  std::size_t size_ = 0;
};

struct ChildArgs {
  const ChildPlan* plan;
  ChildFailure failure;  // written by the child, read by the parent
};

[[noreturn]] OTPD_CHILD_CODE void fail(ChildArgs* args, ChildStep step) {
  args->failure.error = errno;
  args->failure.step = step;
  _exit(127);
}

// Only ignored dispositions survive exec, but a handler otpd installed could
// otherwise run in the child, on otpd's memory, once signals are unblocked.
OTPD_CHILD_CODE void reset_signal_dispositions() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    // libc's own internal signals are refused with EINVAL; exec resets them.
    sigaction(signo, &dfl, nullptr);
  }
}

// Moves the requested descriptors onto 0, 1, 2. Sources that are themselves
// 0..2 are copied out of the way first, so any permutation works.
OTPD_CHILD_CODE bool install_stdio(const int (&requested)[3]) {
  int source[3] = {requested[0], requested[1], requested[2]};
  for (int target = 0; target < 3; ++target) {
    if (source[target] < 3 && source[target] != target) {
      source[target] = fcntl(source[target], F_DUPFD_CLOEXEC, 3);
      if (source[target] < 0) return false;
    }
  }
  for (int target = 0; target < 3; ++target) {
    // dup2 onto itself would keep a close-on-exec flag the parent may have set.
    const int result =
        source[target] == target ? fcntl(target, F_SETFD, 0) : dup2(source[target], target);
    if (result < 0) return false;
  }
  return true;
}

// The child shares otpd's descriptor table (CLONE_FILES) until here, and
// leaves it keeping only what it needs: copying a table that holds a pidfd
// per child would cost every spawn time in proportion to the tree's size.
OTPD_CHILD_CODE bool leave_descriptor_table(const int (&stdio)[3], int passed_fd) {
  unsigned first_unneeded = 3;
  for (int fd : stdio) {
    if (fd >= 3) first_unneeded = std::max(first_unneeded, static_cast<unsigned>(fd) + 1);
  }
  if (passed_fd >= 3)
    first_unneeded = std::max(first_unneeded, static_cast<unsigned>(passed_fd) + 1);
  if (close_range(first_unneeded, ~0U, CLOSE_RANGE_UNSHARE) == 0) return true;
  // Without CLOSE_RANGE_UNSHARE (kernel < 5.9): a full private copy first,
  // never a close on the table otpd is using.
  return unshare(CLONE_FILES) == 0 && close_range(first_unneeded, ~0U, 0) == 0;
}

// glibc's setgroups/setresgid/setresuid would apply the change to every
// thread of what it takes for its process, which is otpd's: they are called
// as raw system calls, which change the calling process alone.
#ifdef SYS_setresuid32  // 32-bit ABIs whose plain calls take 16-bit ids
constexpr long kSetgroups = SYS_setgroups32;
constexpr long kSetresgid = SYS_setresgid32;
constexpr long kSetresuid = SYS_setresuid32;
#else
constexpr long kSetgroups = SYS_setgroups;
constexpr long kSetresgid = SYS_setresgid;
constexpr long kSetresuid = SYS_setresuid;
#endif

// Groups first, then the group, then the user: once the user has changed,
// the process no longer has the right to change its groups.
OTPD_CHILD_CODE void switch_identity(ChildArgs* args, const ChildPlan& plan) {
  if (plan.set_groups && syscall(kSetgroups, plan.group_count, plan.groups) != 0) {
    fail(args, ChildStep::groups);
  }
  if (plan.set_gid && syscall(kSetresgid, plan.gid, plan.gid, plan.gid) != 0) {
    fail(args, ChildStep::gid);
  }
  if (plan.set_uid && syscall(kSetresuid, plan.uid, plan.uid, plan.uid) != 0) {
    fail(args, ChildStep::uid);
  }
}

// After stdio: installing 0..2 never touches a descriptor above 2, so the
// source is still there. dup2 clears close-on-exec on the target.
OTPD_CHILD_CODE bool install_passed_fd(int source, int target) {
  if (source == target) return fcntl(target, F_SETFD, 0) == 0;
  return dup2(source, target) == target;
}

// Everything above 2 except the passed descriptor.
OTPD_CHILD_CODE bool close_the_rest(int kept) {
  if (kept < 3) return close_range(3, ~0U, 0) == 0;
  if (kept > 3 && close_range(3, static_cast<unsigned>(kept) - 1, 0) != 0) return false;
  return close_range(static_cast<unsigned>(kept) + 1, ~0U, 0) == 0;
}

OTPD_CHILD_CODE int child_main(void* raw) {
  auto* args = static_cast<ChildArgs*>(raw);
  const ChildPlan& plan = *args->plan;

  // First, while the descriptors are still those of otpd's table, and so
  // that everything the child does from here on counts against its limits.
  // "0" is the writing process itself.
  for (int i = 0; i < plan.cgroup_fd_count; ++i) {
    if (write(plan.cgroup_fds[i], "0", 1) != 1) {
      args->failure.index = i;
      fail(args, ChildStep::cgroup);
    }
  }
  if (plan.new_session) {
    if (setsid() < 0) fail(args, ChildStep::session);
  } else if (setpgid(0, 0) != 0) {
    fail(args, ChildStep::process_group);
  }
  reset_signal_dispositions();
  const bool passes_fd = plan.passed_fd >= 0 && plan.passed_fd_target >= 3;
  if (!leave_descriptor_table(plan.stdio, passes_fd ? plan.passed_fd : -1)) {
    fail(args, ChildStep::close_fds);
  }
  if (!install_stdio(plan.stdio)) fail(args, ChildStep::stdio);
  if (passes_fd && !install_passed_fd(plan.passed_fd, plan.passed_fd_target)) {
    fail(args, ChildStep::passed_fd);
  }
  if (!close_the_rest(passes_fd ? plan.passed_fd_target : -1)) fail(args, ChildStep::close_fds);
  if (plan.fd_limit != nullptr && setrlimit(RLIMIT_NOFILE, plan.fd_limit) != 0) {
    fail(args, ChildStep::fd_limit);
  }
  // Before the user changes: only a privileged process may raise a hard limit.
  for (int i = 0; i < plan.limit_count; ++i) {
    if (setrlimit(static_cast<__rlimit_resource_t>(plan.limits[i].resource),
                  &plan.limits[i].value) != 0) {
      args->failure.index = i;
      fail(args, ChildStep::rlimit);
    }
  }
  switch_identity(args, plan);
  // After the identity change, which clears it. The signal comes when the
  // thread that spawned exits: the parent is the calling thread, not otpd.
  if (plan.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail(args, ChildStep::parent_death_signal);
    // otpd died before the signal was in place: nobody would kill the child.
    if (getppid() != plan.parent_pid) {
      errno = ESRCH;
      fail(args, ChildStep::parent_death_signal);
    }
  }
  if (plan.umask >= 0) umask(static_cast<mode_t>(plan.umask));
  // After the switch, so that the user's own rights to the directory count.
  if (plan.cwd != nullptr && chdir(plan.cwd) != 0) fail(args, ChildStep::cwd);

  // Last, so that nothing is delivered to the child while it still runs otpd code.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(plan.program, plan.argv, plan.envp);
  fail(args, ChildStep::exec);
}

}  // namespace

int launch_child(const ChildPlan& plan, ChildFailure& failure, int* pidfd) {
  thread_local ChildStack stack;
  void* top = stack.top();
  if (top == nullptr) {
    failure = {ChildStep::stack, errno};
    return -1;
  }

  // The child starts with this mask, so no otpd handler can run in it before
  // it has reset the dispositions.
  sigset_t all;
  sigset_t saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);

  ChildArgs args{&plan, {}};
  // CLONE_VFORK suspends this thread until the child execs or exits, so the
  // child may use the stack and `args`, and its outcome is known on return.
  constexpr int flags = CLONE_VM | CLONE_FILES | CLONE_VFORK | SIGCHLD;
  int fd = -1;
  int pid = pidfd != nullptr ? clone(child_main, top, flags | CLONE_PIDFD, &args, &fd)
                             : clone(child_main, top, flags, &args);
  // Kernels before 5.2 know no CLONE_PIDFD, and a full descriptor table
  // refuses one: the child is then watched without.
  if (pid < 0 && pidfd != nullptr && (errno == EINVAL || errno == EMFILE || errno == ENFILE)) {
    fd = -1;
    pid = clone(child_main, top, flags, &args);
  }
  const int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pidfd != nullptr) *pidfd = pid > 0 ? fd : -1;

  if (pid < 0) {
    failure = {ChildStep::clone, clone_error};
    return -1;
  }
  if (args.failure.step != ChildStep::none) {
    // Exited before exec: reap it now, by pid, so no zombie is left and the
    // reaper never sees it.
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pidfd != nullptr && *pidfd >= 0) {
      close(*pidfd);
      *pidfd = -1;
    }
    failure = args.failure;
    return -1;
  }
  return pid;
}

}  // namespace otpd::process
