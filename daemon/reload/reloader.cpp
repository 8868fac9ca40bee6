#include "reload/reloader.hpp"

#include <filesystem>
#include <stdexcept>

#include "config/error.hpp"
#include "config/loader.hpp"

namespace otpd::reload {
namespace {

constexpr const char* kControlWarning =
    "the control section changed; the control socket cannot change while otpd runs: restart "
    "otpd to apply it";
constexpr const char* kHttpWarning =
    "the http or hooks section changed, and this otpd cannot apply them while it runs: restart "
    "otpd to apply them";

constexpr const char* kNoFile =
    "otpd runs the command given after -- without a config file: there is nothing to reload";

std::string counts(const config::TreeDiff& diff) {
  return std::to_string(diff.of(config::Change::added).size()) + " added, " +
         std::to_string(diff.of(config::Change::removed).size()) + " removed, " +
         std::to_string(diff.of(config::Change::changed).size()) + " changed";
}

}  // namespace

Reloader::Reloader(supervise::Host& host, supervise::Tree& tree, log::EventLog& log,
                   sd_notify::Notifier& manager, std::string file,
                   std::function<void(const supervise::Failure& failed)> ready, Complete complete)
    : host_(host),
      tree_(tree),
      log_(log),
      manager_(manager),
      file_(std::move(file)),
      ready_(std::move(ready)),
      complete_(std::move(complete)) {}

config::Config Reloader::completed(config::Config config) const {
  if (complete_) complete_(config);
  return config;
}

void Reloader::serve(const control::ClientRequest& request, Done done) {
  if (request.dry_run) {
    dry_run(request, std::move(done));
    return;
  }
  reload("requested on the control socket", std::move(done));
}

void Reloader::reload(const std::string& why, Done done) {
  control::ReloadOutcome outcome{.file = file_};
  if (stopping_ || !tree_.running()) {
    outcome.failure = "otpd is stopping; nothing was reloaded";
    finish(std::move(outcome), std::move(done));
    return;
  }
  if (file_.empty()) {
    outcome.failure = kNoFile;
    finish(std::move(outcome), std::move(done));
    return;
  }
  ++in_flight_;
  manager_.reloading("reloading " + file_);
  config::Config next;
  try {
    next = completed(config::load_file(file_));
  } catch (const std::exception& e) {
    outcome.failure = config::describe_failure(e);
    log_.error("reload (" + why + ") failed, nothing changed: " + *outcome.failure);
    if (--in_flight_ == 0 && !stopping_ && tree_.running())
      ready_("the last reload failed: " + *outcome.failure);
    finish(std::move(outcome), std::move(done));
    return;
  }
  outcome.diff = tree_.plan(next);
  if (outcome.diff.control_changed) {
    log_.warning(kControlWarning);
    outcome.warnings.emplace_back(kControlWarning);
  }
  if (apply_sections) {
    apply_sections(next, outcome);
  } else if (outcome.diff.http_changed || outcome.diff.hooks_changed) {
    log_.warning(kHttpWarning);
    outcome.warnings.emplace_back(kHttpWarning);
  }
  log_.info("reloading " + file_ + " (" + why + "): " + counts(outcome.diff));
  tree_.reload(next, [this, outcome = std::move(outcome),
                      done = std::move(done)](supervise::ReloadResult result) mutable {
    outcome.failed = std::move(result.failed);
    if (result.failure) {
      outcome.failure = *result.failure + "; nothing was reloaded";
      log_.warning("reload: " + *outcome.failure);
    } else {
      // The tree's plan compares with sections already applied above.
      const bool http_changed = outcome.diff.http_changed;
      const bool hooks_changed = outcome.diff.hooks_changed;
      outcome.diff = std::move(result.diff);
      outcome.diff.http_changed = http_changed;
      outcome.diff.hooks_changed = hooks_changed;
      for (const auto& failure : outcome.failed) {
        log_.warning("reload: " + failure.path + " failed to start: " + failure.error);
      }
    }
    // A tree that failed its first start meanwhile is not announced ready.
    if (--in_flight_ == 0 && !stopping_ && tree_.running()) ready_(std::nullopt);
    done(std::move(outcome));
  });
}

void Reloader::dry_run(const control::ClientRequest& request, Done done) {
  control::ReloadOutcome outcome{.dry_run = true,
                                 .file = request.text.empty() ? file_ : request.file};
  try {
    if (request.text.empty()) {
      if (file_.empty()) throw std::runtime_error(kNoFile);
      outcome.diff = tree_.plan(completed(config::load_file(file_)));
    } else {
      const std::string name = request.file.empty() ? "<text>" : request.file;
      outcome.file = name;
      // The text is compared as if it replaced otpd's own file: its relative
      // paths (cwd, env_file, include) start where that file is, whatever
      // directory the copy was written in.
      const auto base = file_.empty() ? std::filesystem::current_path().string()
                                      : std::filesystem::absolute(file_).parent_path().string();
      outcome.diff = tree_.plan(completed(config::load_string(request.text, name, base)));
    }
  } catch (const std::exception& e) {
    outcome.failure = config::describe_failure(e);
  }
  if (!outcome.failure && outcome.diff.control_changed) {
    outcome.warnings.emplace_back(kControlWarning);
  }
  if (!outcome.failure && !apply_sections &&
      (outcome.diff.http_changed || outcome.diff.hooks_changed)) {
    outcome.warnings.emplace_back(kHttpWarning);
  }
  if (!outcome.failure && apply_sections) {
    if (outcome.diff.http_changed)
      outcome.applied.emplace_back("http: changed; a reload applies it");
    if (outcome.diff.hooks_changed) {
      outcome.applied.emplace_back("hooks: changed; a reload applies them");
    }
  }
  finish(std::move(outcome), std::move(done));
}

// Answers from the event loop, never inside the request that asked.
void Reloader::finish(control::ReloadOutcome outcome, Done done) {
  host_.post([outcome = std::move(outcome), done = std::move(done)]() mutable {
    done(std::move(outcome));
  });
}

}  // namespace otpd::reload
