#include "cli/session_options.h"

#include <algorithm>

#include "cli/trust_options.h"
#include "util/units.h"

namespace ka::cli {
namespace {

// A rate option's value in bits/s (util/units.h), or CLI11's error naming the option.
double RateOrThrow(const std::string& text) {
  auto r = ParseRate(text);
  if (!r.ok()) throw CLI::ValidationError(r.status().message());
  return r.value();
}

}  // namespace

void AddSenderSessionOptions(CLI::App* cmd, control::SendSessionOptions& o, const SessionWords& words) {
  const std::string& peers = words.peers;
  cmd->add_option("-s,--session", o.session, "Session name the " + peers + " ask for")->capture_default_str();
  AddSenderTrustOptions(cmd, o);
  cmd->add_option(words.port_flags, o.port, "TCP port for control and data connections")->capture_default_str();
  cmd->add_option("--discovery-port", o.discovery_port, "UDP port where the " + peers + "' broadcasts are answered")
      ->capture_default_str();
  cmd->add_option("--bind", o.bind, "Listen on this IPv4 address only (default: all)");
  cmd->add_option("--start-after", o.start_after,
                  "Start with the " + peers + " present after this many seconds, even if fewer than --nodes");
  cmd->add_option("--join-timeout", o.join_timeout, "Give up if nobody joined after this many seconds (0: never)");
  cmd->add_option("--node-timeout", o.node_timeout,
                  "Drop a node (frozen or unreachable) after this many seconds without a heartbeat")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  cmd->add_option("--control-rate", o.control_rate,
                  "Heartbeats a second the sender takes from all the " + peers +
                      " together: each beats every max(0.25, nodes / this) s (frozen members are found by "
                      "their neighbours)")
      ->capture_default_str()
      ->check(CLI::Range(4.0, 100000.0));
  cmd->add_option("--freeze-detect", o.freeze_detect,
                  "A member silent this long on its data link counts as frozen (seen by its upstream neighbour; "
                  "more when its beats come late, at most --node-timeout). Lower finds freezes sooner on "
                  "dedicated nodes; a loaded host needs more")
      ->capture_default_str()
      ->check(CLI::Range(0.3, 60.0));
  cmd->add_option("--chains", o.chains,
                  "Feed this many chains at once, each a contiguous run of the " + peers +
                      " in address order (for a sender link faster than theirs; default: as --max-chain says, "
                      "else one)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-chain", o.max_chain,
                  "Most " + peers +
                      " in one chain: more chains are fed at once so that none is longer (a fault "
                      "stalls only the nodes after it in its own chain)")
      ->check(CLI::Range(1, 100000));
  auto rate = [](double* out) { return [out](const std::string& text) { *out = RateOrThrow(text); }; };
  cmd->add_option_function<std::string>("--uplink", rate(&o.uplink_bps),
                                        "This server's link towards the " + peers +
                                            " (e.g. 10gbit; default: the speed its interface reports) for the "
                                            "automatic number of chains");
  cmd->add_option_function<std::string>("--link", rate(&o.link_bps),
                                        "The " + peers +
                                            "' links (e.g. 1gbit; default: the least speed they "
                                            "report) for the automatic number of chains");
  cmd->add_option("--report", o.report_path, "Write a JSON report of the session to this file");
  cmd->add_option("--progress-interval", o.progress_interval, "Seconds between progress lines")->capture_default_str();
  cmd->add_option("--session-dir", o.session_dir,
                  "Keep the nodes' logs (logs/NODE.log) and the report here; default /var/log/ka/SESSION-TIME, "
                  "'none' for no files");
  cmd->add_option("--web", o.web, "Serve the read-only dashboard on ADDR:PORT (PORT alone: 127.0.0.1), token-protected");
  cmd->add_option("--web-token-file", o.web_token_file,
                  "The dashboard's token: the file's first line; a new token is written there if it is missing");
  cmd->add_option("--web-linger", o.web_linger,
                  "Keep the dashboard up this many seconds after the session ended, showing its final state "
                  "(for a last look or a last Prometheus scrape of /metrics)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
}

void AddReceiverSessionOptions(CLI::App* cmd, chain::ReceiveOptions& o, const SessionWords& words) {
  const std::string& peer = words.peers;
  cmd->add_option("-s,--session", o.session, "Session name to find by UDP broadcast")->capture_default_str();
  cmd->add_option("--server", o.server, "Connect to this " + peer + " (HOST[:PORT]) instead of discovering it");
  AddReceiverTrustOptions(cmd, o);
  cmd->add_option(words.port_flags, o.port, "TCP port of the " + peer + ", used with --server when HOST has no :PORT")
      ->capture_default_str();
  cmd->add_option("--discovery-port", o.discovery_port, "UDP port the discovery broadcast goes to")
      ->capture_default_str();
  cmd->add_option("--data-port", o.data_port, "TCP port where the next node connects (0: any free port)")
      ->capture_default_str();
  cmd->add_option("--wait", o.wait, "Discovery tries, one second apart, before giving up")->capture_default_str();
  cmd->add_option("--broadcast", o.broadcast,
                  "Send discovery to this IPv4 address (repeatable; default: every interface's broadcast address "
                  "and 127.0.0.1)");
  cmd->add_option("--name", o.name, "Name of this node in reports (default: hostname)");
  cmd->add_option("--sender-timeout", o.sender_timeout,
                  "Give up after this many seconds without word from the " + peer)
      ->capture_default_str();
  cmd->add_option_function<std::string>(
      "--link",
      [&o](const std::string& text) {
        o.link_mbps = static_cast<uint32_t>(std::clamp(RateOrThrow(text) / 1e6, 1.0, 1e7));
      },
      "This node's link speed as told to the " + peer +
          " (e.g. 1gbit; default: as the kernel reports it): slower nodes are placed at the chains' tails");
}

}  // namespace ka::cli
