package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Configuration.AddLearner;
import io.raftkv.raft.Configuration.AddVoter;
import io.raftkv.raft.Configuration.Change;
import io.raftkv.raft.Configuration.InvalidChangeException;
import io.raftkv.raft.Configuration.Poll;
import io.raftkv.raft.Configuration.Remove;
import io.raftkv.raft.Configuration.Transition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The membership rules, as a table: etcd's confchange test data (raft-extensions-spec MC10) and the
 * quorum arithmetic of single and joint configurations.
 */
class ConfigurationTest {
  /** {@code "v2 l3 r4"}: add voter 2, add learner 3, remove 4. */
  static List<Change> changes(String spec) {
    List<Change> out = new ArrayList<>();
    for (String c : spec.trim().split("\\s+")) {
      if (c.isEmpty()) continue;
      int id = Integer.parseInt(c.substring(1));
      out.add(switch (c.charAt(0)) {
        case 'v' -> new AddVoter(id);
        case 'l' -> new AddLearner(id);
        case 'r' -> new Remove(id);
        default -> throw new IllegalArgumentException(c);
      });
    }
    return out;
  }

  static Configuration voters(Integer... ids) {
    return Configuration.of(Set.of(ids), Set.of());
  }

  @Test
  void theSpecsIdempotencySequenceEndsJointWithALearnerNext() {
    Configuration c = voters(1).apply(changes("r1 r2 r9 v2 v3 v4 v2 v3 v4 l2 l2 r4 r4 l1 l1"), Transition.EXPLICIT);
    assertEquals(Set.of(3), c.voters());
    assertEquals(Set.of(1), c.outgoing());
    assertEquals(Set.of(2), c.learners());
    assertEquals(Set.of(1), c.learnersNext());
    assertTrue(c.isVoter(1), "a voter of the outgoing half still votes");
    assertFalse(c.isLearner(1));
    Configuration left = c.apply(List.of(), Transition.AUTO);
    assertEquals(Configuration.of(Set.of(3), Set.of(1, 2)), left, "n1 is a learner once the joint config is left");
  }

  @Test
  void simpleChangesChangeAtMostOneVoter() {
    assertEquals(voters(1, 2), voters(1).apply(changes("v2"), Transition.SIMPLE));
    assertEquals(Configuration.of(Set.of(1), Set.of(2, 3)), voters(1).apply(changes("l2 l3"), Transition.SIMPLE), "learners may batch");
    assertEquals(voters(1, 2), voters(1, 2).apply(changes("v2 r9"), Transition.SIMPLE), "idempotent");
    assertEquals(Configuration.of(Set.of(1), Set.of(2)), voters(1, 2).apply(changes("l2"), Transition.SIMPLE), "demotion");
    assertEquals(voters(1, 2), Configuration.of(Set.of(1), Set.of(2)).apply(changes("v2"), Transition.SIMPLE), "promotion");
    refused(voters(1), "v2 v3", Transition.SIMPLE, "more than one voter changed without entering joint config");
    refused(voters(1, 2), "r1 v3", Transition.SIMPLE, "more than one voter changed without entering joint config");
    refused(voters(1), "r1", Transition.SIMPLE, "removed all voters");
    refused(Configuration.of(Set.of(1), Set.of(2)), "r1", Transition.SIMPLE, "removed all voters");
  }

  @Test
  void autoIsSimpleForOneVoterAndJointWithAutoLeaveForMore() {
    assertEquals(voters(1, 2), voters(1).apply(changes("v2"), Transition.AUTO));
    Configuration joint = voters(1).apply(changes("v2 v3"), Transition.AUTO);
    assertEquals(new Configuration(Set.of(1, 2, 3), Set.of(1), Set.of(), Set.of(), true), joint);
    Configuration implicit = voters(1).apply(changes("v2"), Transition.IMPLICIT);
    assertTrue(implicit.isJoint() && implicit.autoLeave());
    Configuration explicit = voters(1).apply(changes("v2"), Transition.EXPLICIT);
    assertTrue(explicit.isJoint() && !explicit.autoLeave());
  }

  @Test
  void whileJointOnlyLeavingIsAllowed() {
    Configuration joint = voters(1).apply(changes("v2"), Transition.EXPLICIT);
    refused(joint, "v3 v4 v5", Transition.AUTO, "must transition out of joint config first");
    refused(joint, "l3", Transition.EXPLICIT, "must transition out of joint config first");
    assertEquals(voters(1, 2), joint.apply(List.of(), Transition.AUTO));
    refused(voters(1, 2), "", Transition.AUTO, "can't leave a non-joint config");
    refused(Configuration.of(Set.of(), Set.of(1)), "v2", Transition.EXPLICIT, "can't make a zero-voter config joint");
    refused(voters(1), "r1", Transition.EXPLICIT, "removed all voters");
  }

  @Test
  void promotingAndDemotingInOneStepAndReplacingTheLeaderJointly() {
    // replace n1 by n4: joint {2,3,4} && {1,2,3}, then {2,3,4}
    Configuration joint = voters(1, 2, 3).apply(changes("v4 r1"), Transition.AUTO);
    assertEquals(Set.of(2, 3, 4), joint.voters());
    assertEquals(Set.of(1, 2, 3), joint.outgoing());
    assertEquals(Set.of(1, 2, 3, 4), joint.members());
    assertEquals(voters(2, 3, 4), joint.apply(List.of(), Transition.AUTO));
    // a learner promoted and a voter demoted together: two voters change, so joint
    Configuration swap = Configuration.of(Set.of(1, 2), Set.of(3)).apply(changes("v3 l2"), Transition.AUTO);
    assertEquals(Set.of(1, 3), swap.voters());
    assertEquals(Set.of(2), swap.learnersNext());
    assertEquals(Configuration.of(Set.of(1, 3), Set.of(2)), swap.apply(List.of(), Transition.AUTO));
  }

  @Test
  void theInvariantsHoldForAnyConfigurationMade() {
    assertThrows(IllegalArgumentException.class, () -> Configuration.of(Set.of(1), Set.of(1)));
    assertThrows(IllegalArgumentException.class, () -> new Configuration(Set.of(1), Set.of(), Set.of(), Set.of(2), false));
    assertThrows(IllegalArgumentException.class, () -> new Configuration(Set.of(1), Set.of(), Set.of(), Set.of(), true));
    assertThrows(IllegalArgumentException.class, () -> new Configuration(Set.of(1), Set.of(1), Set.of(), Set.of(1), false));
    assertThrows(IllegalArgumentException.class, () -> voters(-1));
  }

  @Test
  void aMajorityOfEachHalfCommits() {
    Map<Integer, Long> match = Map.of(1, 10L, 2, 8L, 3, 5L, 4, 9L, 5, 1L);
    assertEquals(8, voters(1, 2, 3).committed(match::get));
    assertEquals(8, voters(1, 2, 3, 4).committed(match::get), "3 of 4");
    assertEquals(10, voters(1).committed(match::get));
    assertEquals(8, voters(1, 2, 3, 4, 5).committed(match::get), "3 of 5: 10, 9, 8");
    // joint: the lower of the two halves
    Configuration joint = new Configuration(Set.of(3, 4, 5), Set.of(1, 2, 3), Set.of(), Set.of(), false);
    assertEquals(5, joint.committed(match::get), "{3,4,5} reached 5, {1,2,3} 8");
    // learners never count
    assertEquals(10, Configuration.of(Set.of(1), Set.of(5)).committed(match::get));
  }

  @Test
  void aPollIsWonWithAMajorityOfEachHalfAndLostWhenEitherCannotReachOne() {
    Configuration joint = new Configuration(Set.of(3, 4, 5), Set.of(1, 2, 3), Set.of(), Set.of(), false);
    assertEquals(Poll.WON, joint.poll(id -> id == 3 || id == 4 || id == 1, id -> false));
    assertEquals(Poll.PENDING, joint.poll(id -> id == 4 || id == 5, id -> false), "won incoming, outgoing open");
    assertEquals(Poll.LOST, joint.poll(id -> id == 4 || id == 5, id -> id == 1 || id == 2), "outgoing lost");
    assertEquals(Poll.WON, voters(1).poll(id -> id == 1, id -> false));
    assertEquals(Poll.LOST, voters(1, 2).poll(id -> id == 1, id -> id == 2), "1 of 2 is no majority");
    assertEquals(Poll.PENDING, Configuration.of(Set.of(1, 2), Set.of(3)).poll(id -> id == 1 || id == 3, id -> false), "a learner's yes does not count");
  }

  private static void refused(Configuration c, String spec, Transition t, String why) {
    InvalidChangeException e = assertThrows(InvalidChangeException.class, () -> c.apply(changes(spec), t));
    assertEquals(why, e.getMessage());
  }
}
