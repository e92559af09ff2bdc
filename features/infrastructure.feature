@infrastructure
Feature: The digest table is deployed from one CloudFormation template
  As the VibeDigest operator
  I want the table of each environment created from infrastructure/dynamodb.yml
  So that dev, staging and prod get the same verified table without console work

  The embedded endpoint (moto with the project's fidelity layer) stands in for AWS:
  every live check, point-in-time recovery, encryption and outputs included, is real.

  "The table" and "the stack" belong to the environment under test: dev on the
  embedded endpoint and on emulators, the environment given with -D env=... on aws,
  where scenarios naming another environment do not run.

  @cf1
  Scenario: The deploy tool deploys, verifies and tests the connection
    When the operator deploys the environment with the deploy tool
    Then the deploy tool reports the stack as complete
    And the deploy tool reports the key schema and the billing mode as ok
    And the deploy tool reports the connection as OK and the deployment as verified

  @cf1
  Scenario Outline: Deploying the <environment> stack succeeds
    When the <environment> stack is deployed
    Then the deployment succeeds and the stack is complete
    And the table VibeDigest-<environment> exists

    Examples:
      | environment |
      | dev         |
      | staging     |
      | prod        |

  @cf1 @disposable
  Scenario: A dry run previews the change set and changes nothing
    Given the dev table is not deployed
    When the operator previews the deployment of the dev environment with the deploy tool
    Then the deploy tool previews adding the table and says that nothing was changed
    And no stack and no table exist for dev

  @cf1
  Scenario: Re-deploying an unchanged template succeeds without changes
    Given the table is deployed
    When the stack is deployed again
    Then the deploy reports that the stack already matches the template
    And the table is still ACTIVE

  @cf1
  Scenario: The template protects the data and exports the table for other stacks
    Given the prod table is deployed
    Then the template enables point-in-time recovery and encryption for prod
    And the template exports the table name and ARN for prod
    And the verification reports point-in-time recovery, encryption and outputs as ok

  @ts2
  Scenario: The table is keyed by day and item
    Given the table is deployed
    Then the table is keyed by digest_date and item_id
    And both keys are strings
    And the key schema check of the verification is ok

  @bm3
  Scenario: The table bills per request
    Given the table is deployed
    Then the table's billing mode is PAY_PER_REQUEST
    And the billing mode check of the verification is ok

  @tg4
  Scenario Outline: The <environment> table is tagged with its project and environment
    Given the <environment> table is deployed
    Then the table carries the tags
      | key         | value          |
      | Project     | VibeDigest     |
      | Environment | <environment>  |
      | ManagedBy   | CloudFormation |
    And the stack carries the tags Project and Environment too

    Examples:
      | environment |
      | dev         |
      | staging     |
      | prod        |

  @as5
  Scenario: The table is ACTIVE within 2 minutes
    When the stack is deployed
    Then the table is ACTIVE within 2 minutes of the deployment starting
    And the status check of the verification is ok
