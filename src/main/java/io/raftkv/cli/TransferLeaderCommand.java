package io.raftkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code raftkv transfer-leader [--to N]}: finds the endpoint whose node leads (its {@code
 * /v1/status}) and asks it to hand leadership on ({@code POST /v1/leader/transfer}). Exit 0 when the
 * transfer happened, 1 when the leader declined (the answer says why), 2 when no leader answered.
 */
@Command(
    name = "transfer-leader",
    description = {
      "Ask the current leader to hand leadership to node N (default: the most up-to-date follower).",
      "Prints the answer as JSON: {\"done\":true,\"leader\":n,\"term\":t} or an error."
    })
final class TransferLeaderCommand extends ClientCommand {
  @Option(names = "--to", paramLabel = "N", defaultValue = "-1", description = "The node to lead next (default: any up-to-date follower).")
  int to;

  @Override
  public Integer call() {
    if (to < -1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--to must be a node id");
    String path = "/v1/leader/transfer" + (to >= 0 ? "?to=" + to : "");
    return atLeader(endpoints.client(), "POST", path);
  }
}
