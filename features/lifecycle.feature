@lifecycle
Feature: Every path of the dev stack's life ends well
  As the VibeDigest operator
  I want every deploy, delete, failure and recovery of a stack to end in a state I can work from
  So that the digests are never lost and a stack is never stuck

  The table is named and retained: deleting its stack keeps it, and a later deploy
  brings it back under a stack. What is rehearsed here on the embedded endpoint
  ends as it does on AWS. Each scenario sets up the world it needs; none assumes an
  empty account.

  @disposable @cf1
  Scenario: Deleting the stack keeps the digests, and deploying again brings the table back under a stack
    Given the dev environment is deployed with 30 digests in its table
    When the operator deletes the dev stack
    Then the dev table and its 30 digests remain without a stack
    When the operator deploys dev
    Then the dev stack holds the dev table
    And all 30 digests of dev can still be read

  @disposable @cf1
  Scenario: Previewing the deploy after a delete asks CloudFormation and changes nothing
    Given the dev environment is deployed with 3 digests in its table
    When the operator deletes the dev stack
    And the operator previews a deploy of dev
    Then the preview shows the dev table would be imported into the stack
    And no dev stack exists
    And the dev table and its 3 digests remain without a stack

  @disposable @cf1 @revert-drift
  Scenario: Settings changed by hand on a retained table are brought back to the template's by the next deploy
    Given the dev environment is deployed with 5 digests in its table
    When the operator deletes the dev stack
    And someone turns off point-in-time recovery and changes a tag of the retained dev table
    And the operator deploys dev
    Then the dev stack holds the dev table
    And the dev table matches the template in every check
    And all 5 digests of dev can still be read

  @disposable
  Scenario: A table with other keys is not brought under the stack
    Given a dev table keyed by id alone exists without a stack
    When the operator deploys dev
    Then the deploy is refused, naming the partition key the template expects
    And no dev stack exists

  @disposable @cf1
  Scenario: A failed first deploy is reported, recovered and deployed again
    Given neither a dev stack nor a dev table exists
    When the operator deploys dev with a table name DynamoDB rejects
    Then the deploy fails, naming DigestTable and DynamoDB's reason
    And the status of the dev stack is ROLLBACK_COMPLETE
    When the operator recovers the dev stack
    Then no dev stack exists
    And deploying dev now succeeds

  @disposable
  Scenario: A failed update leaves the table and its digests as they were
    Given the dev environment is deployed with 10 digests in its table
    When the operator deploys dev with an update that cannot be applied
    Then the deploy fails, saying the previous version is still in place
    And the status of the dev stack is UPDATE_ROLLBACK_COMPLETE
    And the dev table keeps its tags and all 10 digests

  @disposable
  Scenario: A change that would replace the table is refused before anything changes
    Given the dev environment is deployed with 5 digests in its table
    When the operator previews a deploy of dev with the partition and sort keys swapped
    Then the preview shows the table would be replaced because of its KeySchema
    When the operator deploys dev with the partition and sort keys swapped
    Then the deploy is refused because the table would be replaced
    And the dev table keeps its tags and all 5 digests

  @disposable
  Scenario: Two deploys of one environment at once never leave the stack stuck
    Given neither a dev stack nor a dev table exists
    When two operators deploy dev at the same moment
    Then one deploy creates the stack and the other is refused because another deployment is in progress
    And the dev stack is CREATE_COMPLETE with no change set waiting

  @disposable
  Scenario: An interrupted first deploy is cleaned up by recover
    Given a first deploy of dev was interrupted before its change set ran
    Then the status of the dev stack is REVIEW_IN_PROGRESS
    When the operator recovers the dev stack
    Then recover says it deleted the empty stack an interrupted deploy left
    And deploying dev now succeeds
