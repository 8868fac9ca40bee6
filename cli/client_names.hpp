// The client library's names (client/), which otpctl's code uses as its
// own: otpctl is that library's command-line face.
#pragma once

#include "client/client.hpp"
#include "client/connection.hpp"
#include "client/json.hpp"
#include "client/node_fields.hpp"
#include "client/reload_view.hpp"
#include "client/socket_path.hpp"
#include "client/socket_trust.hpp"

namespace otpd::ctl {

using client::also_looked_note;
using client::bool_field;
using client::choose_socket;
using client::Client;
using client::Clock;
using client::Connection;
using client::Deadline;
using client::ErrorReply;
using client::exit_reason;
using client::int_field;
using client::Json;
using client::Refused;
using client::reload_failed;
using client::reload_problems;
using client::render_reload;
using client::Reply;
using client::socket_distrust;
using client::SocketChoice;
using client::something_at;
using client::text_field;
using client::TimedOut;
using client::Unreachable;

}  // namespace otpd::ctl
