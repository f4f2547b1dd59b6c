// ka-swarm-peer: a BitTorrent peer on libtorrent-rasterbar 2.0, the swarm that issue 17 weighs
// against ka's chain (as EZIO and Clonezilla Lite Server deploy images with libtorrent). Benchmark
// tool only, driven by bench/swarm_bench.sh on the namespace bed; never installed.
//
//   ka-swarm-peer make-torrent FILE OUT.torrent [--piece BYTES]      (default 4 MiB pieces)
//   ka-swarm-peer seed TORRENT FILE --listen IP:PORT                  (until SIGTERM)
//   ka-swarm-peer leech TORRENT --save DIR --listen IP:PORT --peer IP:PORT [--peer ...]
// Options of seed and leech: --set NAME=VALUE overrides one libtorrent setting (settings_pack name) after
// the LAN settings below; --super-seed (seed) turns on BitTorrent super-seeding.
//
// No tracker, DHT, LSD, UPnP or NAT-PMP: the peers are the ones given with --peer (the bench gives each
// leecher the seed plus its other leechers). Every piece a leecher gets is checked by libtorrent against
// the torrent's SHA-1 piece hash (make-torrent writes BitTorrent v1 torrents, as EZIO's are; v2's
// SHA-256 merkle trees would add hashing for no gain here) before it is counted, written or served. A
// leecher prints "done SECONDS BYTES" (BYTES: the sum of the pieces whose hash passed) and a JSON line
// when it has every piece, then keeps seeding for the others until SIGTERM, and exits 0 only if it was
// done. A piece that fails its hash is counted (hash_failures) and fetched again by libtorrent.
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int /*sig*/) { g_stop = 1; }

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "ka-swarm-peer: %s\nusage:\n"
               "  ka-swarm-peer make-torrent FILE OUT.torrent [--piece BYTES]\n"
               "  ka-swarm-peer seed TORRENT FILE --listen IP:PORT\n"
               "  ka-swarm-peer leech TORRENT --save DIR --listen IP:PORT --peer IP:PORT [--peer ...]\n"
               "  seed and leech: [--set NAME=VALUE ...] (a libtorrent setting); seed: [--super-seed]\n",
               why.c_str());
  std::exit(2);
}

struct Args {
  std::vector<std::string> positional;
  std::string listen, save;
  std::vector<std::string> peers, sets;
  int piece = 4 << 20;
  bool super_seed = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--listen")
      a.listen = value();
    else if (arg == "--save")
      a.save = value();
    else if (arg == "--peer")
      a.peers.push_back(value());
    else if (arg == "--piece")
      a.piece = std::stoi(value());
    else if (arg == "--set")
      a.sets.push_back(value());
    else if (arg == "--super-seed")
      a.super_seed = true;
    else if (arg.starts_with("--"))
      usage("unknown option " + std::string(arg));
    else
      a.positional.emplace_back(arg);
  }
  return a;
}

lt::tcp::endpoint endpoint(const std::string& ip_port) {
  const auto colon = ip_port.rfind(':');
  if (colon == std::string::npos) usage("want IP:PORT, not '" + ip_port + "'");
  return {lt::make_address_v4(ip_port.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(ip_port.substr(colon + 1)))};
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int make_torrent(const Args& a) {
  if (a.positional.size() != 2) usage("make-torrent FILE OUT.torrent");
  const fs::path file = fs::absolute(a.positional[0]);
  lt::file_storage files;
  lt::add_files(files, file.string());
  // v1 only: SHA-1 per piece (see the top of this file)
  lt::create_torrent t(files, a.piece, lt::create_torrent::v1_only);
  t.set_creator("ka-swarm-peer");
  lt::set_piece_hashes(t, file.parent_path().string());
  std::vector<char> out;
  lt::bencode(std::back_inserter(out), t.generate());
  std::ofstream(a.positional[1], std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
  std::printf("torrent %s: %lld bytes, %d pieces of %d bytes\n", a.positional[1].c_str(),
              static_cast<long long>(files.total_size()), t.num_pieces(), a.piece);
  return 0;
}

// The operator's LAN settings: every value that differs from libtorrent 2.0's defaults, and why.
lt::settings_pack lan_settings(const std::string& listen, int peers) {
  lt::settings_pack s;
  // Only the bed address given, TCP only (ka and the other methods run over TCP; uTP's LEDBAT would
  // back off on a LAN with nothing to yield to), and no peer discovery of any kind.
  s.set_str(lt::settings_pack::listen_interfaces, listen);
  s.set_str(lt::settings_pack::outgoing_interfaces, listen.substr(0, listen.rfind(':')));
  s.set_bool(lt::settings_pack::enable_incoming_utp, false);
  s.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  s.set_bool(lt::settings_pack::enable_dht, false);
  s.set_bool(lt::settings_pack::enable_lsd, false);
  s.set_bool(lt::settings_pack::enable_upnp, false);
  s.set_bool(lt::settings_pack::enable_natpmp, false);
  // Every given peer at once: connect to all of them at start (torrent_connect_boost, default 30),
  // as fast as asked (connection_speed, default 30/s; smooth_connects would halve it), and accept as
  // many (connections_limit, default 200; listen_queue_size, default 5, drops a burst of N connects).
  const int many = std::max(200, 2 * peers + 10);
  s.set_int(lt::settings_pack::connections_limit, many);
  s.set_int(lt::settings_pack::torrent_connect_boost, many);
  s.set_int(lt::settings_pack::connection_speed, many);
  s.set_bool(lt::settings_pack::smooth_connects, false);
  s.set_int(lt::settings_pack::listen_queue_size, many);
  // The leechers start at once, so a peer may not listen yet when another one first tries it: retry
  // after 1 s, not 60 s (min_reconnect_time, multiplied by the peer's failure count), and do not give
  // up on a peer of the cluster after 3 failures (max_failcount). At N = 100 on a loaded machine, with
  // 10 and the last leechers started up to 50 s late, one to three of them ended with no connection at
  // all; with 100 and a prompt start every one finished (which of the two mattered is not isolated).
  s.set_int(lt::settings_pack::min_reconnect_time, 1);
  s.set_int(lt::settings_pack::max_failcount, 100);
  // Keep the link full: a larger send buffer per peer (send_buffer_watermark, default 500 KiB; the
  // low watermark, default 10 KiB, refills it before it drains) than one bandwidth-delay product.
  s.set_int(lt::settings_pack::send_buffer_watermark, 4 << 20);
  s.set_int(lt::settings_pack::send_buffer_low_watermark, 1 << 20);
  // A deeper disk write queue (max_queued_disk_bytes, default 1 MiB: past it a peer stops reading its
  // sockets) so that a burst from several peers at 4 MiB pieces does not stall the download. (More
  // requests in flight, max_out_request_queue 1500 instead of 500, made no measurable difference: the
  // request queue is already request_queue_time = 3 s of the peer's rate, and a deeper one only asks
  // the seed for more of what the other leechers could give.)
  s.set_int(lt::settings_pack::max_queued_disk_bytes, 16 << 20);
  // Unchoke every interested peer (default: 8 slots, rotated every 15 s by tit-for-tat): inside one
  // cluster nobody free-rides, and a choked peer is an idle link.
  s.set_int(lt::settings_pack::unchoke_slots_limit, -1);
  s.set_int(lt::settings_pack::alert_mask,
            static_cast<int>(lt::alert_category::status | lt::alert_category::error | lt::alert_category::storage |
                             lt::alert_category::piece_progress));
  return s;
}

// --set NAME=VALUE: one setting by its settings_pack name, typed as libtorrent declares it
void apply_set(lt::settings_pack& s, const std::string& name_value) {
  const auto eq = name_value.find('=');
  if (eq == std::string::npos) usage("--set wants NAME=VALUE, not '" + name_value + "'");
  const std::string name = name_value.substr(0, eq), value = name_value.substr(eq + 1);
  const int id = lt::setting_by_name(name);
  if (id < 0) usage("unknown libtorrent setting '" + name + "'");
  switch (id & lt::settings_pack::type_mask) {
    case lt::settings_pack::string_type_base:
      s.set_str(id, value);
      break;
    case lt::settings_pack::int_type_base:
      s.set_int(id, std::stoi(value));
      break;
    default:
      s.set_bool(id, value == "1" || value == "true");
      break;
  }
}

int run_peer(const Args& a, bool seeding) {
  if (a.listen.empty()) usage("--listen IP:PORT is required");
  if (a.positional.size() != (seeding ? 2U : 1U)) usage(seeding ? "seed TORRENT FILE" : "leech TORRENT");
  if (!seeding && (a.save.empty() || a.peers.empty())) usage("leech needs --save DIR and --peer");
  const auto start = Clock::now();
  auto ti = std::make_shared<lt::torrent_info>(a.positional[0]);

  lt::settings_pack settings = lan_settings(a.listen, static_cast<int>(a.peers.size()));
  for (const auto& nv : a.sets) apply_set(settings, nv);
  lt::session_params params(std::move(settings));
  lt::session ses(std::move(params));
  lt::add_torrent_params atp;
  atp.ti = ti;
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
  if (seeding) {
    const fs::path file = fs::absolute(a.positional[1]);
    if (file.filename() != ti->files().file_path(lt::file_index_t{0}))
      usage("FILE must have the name the torrent was made from: " + ti->files().file_path(lt::file_index_t{0}));
    atp.save_path = file.parent_path().string();
    // The seed's data is trusted at start (no full re-hash before the first byte goes out); libtorrent
    // still checks each piece's SHA-1 the first time it reads it.
    atp.flags |= lt::torrent_flags::seed_mode;
    if (a.super_seed) atp.flags |= lt::torrent_flags::super_seeding;
  } else {
    atp.save_path = a.save;
    for (const auto& p : a.peers) atp.peers.push_back(endpoint(p));
  }
  lt::torrent_handle h = ses.add_torrent(std::move(atp));
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  std::int64_t verified = 0;
  int pieces = 0, hash_failures = 0;
  bool done = seeding, failed = false;
  std::vector<lt::alert*> alerts;
  while (!g_stop && !failed) {
    ses.wait_for_alert(std::chrono::milliseconds(200));
    ses.pop_alerts(&alerts);
    for (lt::alert* al : alerts) {
      if (auto* p = lt::alert_cast<lt::piece_finished_alert>(al)) {  // its hash passed
        verified += ti->piece_size(p->piece_index);
        ++pieces;
      } else if (lt::alert_cast<lt::hash_failed_alert>(al)) {
        ++hash_failures;
      } else if (lt::alert_cast<lt::listen_failed_alert>(al) || lt::alert_cast<lt::torrent_error_alert>(al) ||
                 lt::alert_cast<lt::file_error_alert>(al)) {
        std::fprintf(stderr, "ka-swarm-peer: %s\n", al->message().c_str());
        failed = true;
      } else if (lt::alert_cast<lt::torrent_finished_alert>(al) && !done) {
        done = true;
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        const lt::torrent_status st = h.status();
        std::printf("done %.3f %lld\n", secs, static_cast<long long>(verified));
        std::printf(
            "{\"event\":\"done\",\"seconds\":%.6f,\"unix\":%.6f,\"bytes\":%lld,\"total\":%lld,"
            "\"pieces\":%d,\"num_pieces\":%d,\"hash_failures\":%d,\"payload_download\":%lld,"
            "\"redundant\":%lld,\"peers\":%d,\"seeds\":%d}\n",
            secs, unix_seconds(), static_cast<long long>(verified), static_cast<long long>(ti->total_size()), pieces,
            ti->num_pieces(), hash_failures, static_cast<long long>(st.total_payload_download),
            static_cast<long long>(st.total_redundant_bytes), st.num_peers, st.num_seeds);
        std::fflush(stdout);
      }
    }
  }
  const lt::torrent_status st = h.status();
  // peers: connected now; known: in the peer list (given, incoming or from peer exchange); candidates:
  // known peers it could still try; error: the torrent's own error, if any
  std::printf(
      "{\"event\":\"exit\",\"done\":%s,\"payload_upload\":%lld,\"payload_download\":%lld,"
      "\"hash_failures\":%d,\"peers\":%d,\"known\":%d,\"candidates\":%d,\"state\":%d,"
      "\"error\":\"%s\"}\n",
      done ? "true" : "false", static_cast<long long>(st.total_payload_upload),
      static_cast<long long>(st.total_payload_download), hash_failures, st.num_peers, st.list_peers,
      st.connect_candidates, static_cast<int>(st.state), st.errc ? st.errc.message().c_str() : "");
  std::fflush(stdout);
  // Everything is said: leave without the session's teardown (goodbyes to every peer, joining the disk
  // threads), which on a loaded bed of 100 peers can outlast the 5 s that `timeout -k` gives after TERM.
  std::_Exit(done && !failed ? 0 : 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("no mode");
  const std::string mode = argv[1];
  try {
    const Args a = parse(argc, argv);
    if (mode == "make-torrent") return make_torrent(a);
    if (mode == "seed") return run_peer(a, true);
    if (mode == "leech") return run_peer(a, false);
    usage("unknown mode " + mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ka-swarm-peer: %s\n", e.what());
    return 1;
  }
}
