@digest
Feature: The digest data layer stores each day's digest items
  VibeDigest keeps one digest per day: items keyed by the day (digest_date) and an
  item id, read back in item id order. Batches are written completely even when
  DynamoDB throttles part of them, and invalid items never reach the table.

  The scenarios use the deployed table of the environment under test. Their items
  carry item ids no real digest uses ("test-<run>-<scenario>-..."); a scenario reads
  only its own items and deletes every item it wrote when it ends, so it runs on a
  real account too.

  Background:
    Given the digest table is deployed

  Scenario: A day's digest is stored and read back unchanged, in order
    When a digest for 2026-11-26 with 5 sample items is stored
    Then reading the digest for 2026-11-26 returns the same 5 items in item_id order

  Scenario: A batch of 60 items is written completely
    When a digest batch of 60 items for 2026-11-27 is written while DynamoDB leaves some unprocessed
    Then the digest batch reports 60 items written
    And the digest for 2026-11-27 holds all 60 items

  Scenario Outline: An item with an invalid date is refused with a clear message
    When storing a digest item dated "<date>" is attempted
    Then the digest item is refused with a message mentioning "<message>"
    And no digest item was written

    Examples:
      | date       | message                     |
      | 2026-13-01 | not a real calendar date    |
      | 26-11-2026 | must be an ISO date         |
