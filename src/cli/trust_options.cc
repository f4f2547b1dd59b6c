#include "cli/trust_options.h"

namespace ka::cli {

void AddSenderTrustOptions(CLI::App* cmd, control::SendSessionOptions& o) {
  cmd->add_option("--secret-file", o.secret_file,
                  "The shared node secret (ka secret new FILE; the same file on every node): authenticates every "
                  "connection and keys the encryption")
      ->check(CLI::ExistingFile);
  cmd->add_option("--sign-key", o.sign_key,
                  "Sign the manifest and the stream with this Ed25519 secret key (ka key new DIR: DIR/ka.key); "
                  "nodes given --trust DIR/ka.pub accept nothing else")
      ->check(CLI::ExistingFile);
  cmd->add_option("--cipher", o.cipher,
                  "AEAD of the data frames: auto (AES-256-GCM where the CPU has AES-NI, else ChaCha20-Poly1305), "
                  "aes-256-gcm or chacha20-poly1305")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "aes-256-gcm", "chacha20-poly1305"}));
  cmd->add_option("--digest", o.digest,
                  "tags: every frame is authenticated, nothing more; sha256: also the payload's SHA-256 (= "
                  "sha256sum of the image) in the report, checked by every node (always on with --sign-key)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tags", "sha256"}));
  cmd->add_flag("--allow-exec", o.allow_exec,
                "Relay `ka exec` commands to the nodes (each node runs only those signed by the operator key it "
                "was given with --allow-remote-commands; every use is logged)");
}

void AddReceiverTrustOptions(CLI::App* cmd, chain::ReceiveOptions& o) {
  cmd->add_option("--secret-file", o.secret_file, "The shared node secret (the sender's file)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--trust", o.trust,
                  "Accept only a manifest and a stream signed by this public key (a ka.pub file or its "
                  "ka-ed25519:... text): not even a holder of the secret can then feed this node a forged image");
  cmd->add_option("--allow-remote-commands", o.operator_key,
                  "Run the remote commands (ka exec) signed by this operator public key (file or text); without "
                  "it, remote commands are refused");
  cmd->add_option("--join-timeout", o.join_timeout,
                  "Keep trying to join (refused, reset or busy sender) for this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
}

}  // namespace ka::cli
