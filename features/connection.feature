@connection
Feature: DynamoDBClient connects to the digest table and fails clearly
  As a VibeDigest service
  I want a client that checks its table, logs what it does and keeps credentials secret
  So that a broken connection is understood at a glance and never leaks a secret

  "The table" is the table of the environment under test: dev on the embedded endpoint
  and on emulators, the environment given with -D env=... on aws.

  @cn10
  Scenario: A connection test returns the table description
    Given the table is deployed
    When the client tests its connection
    Then the connection test returns the description of the table

  @cn10
  Scenario: The deploy tool reports the table's status
    Given the table is deployed
    When the operator checks the environment with the deploy tool
    Then the deploy tool reports the connection as OK
    And the deploy tool describes the table as ACTIVE, keyed by digest_date and item_id, billed per request

  @eh11
  Scenario Outline: A failed connection test raises <error> with a clear message
    Given <situation>
    When the client tests its connection
    Then the connection test fails with <error>
    And the error message mentions "<hint>"
    And the connection test failed within 10 seconds

    @disposable
    Examples: The table is missing
      | situation                         | error                    | hint                                          |
      | the dev table is not deployed     | TableNotFoundError       | Table 'VibeDigest-dev' not found in us-east-1 |

    Examples: The endpoint or the credentials are missing
      | situation                         | error                    | hint                                          |
      | the endpoint is unreachable       | EndpointUnreachableError | Could not reach the endpoint                  |
      | no AWS credentials are configured | CredentialsError         | AWS_PROFILE                                   |

  @eh11 @disposable
  Scenario: The deploy tool reports a missing table in one line
    Given the staging table is not deployed
    When the operator checks the staging environment with the deploy tool
    Then the deploy tool fails with the one line
      """
      error: Table 'VibeDigest-staging' not found
      """

  @lg12 @disposable
  Scenario: Connection attempts and their outcomes are logged
    Given the dev table is deployed
    And the staging table is not deployed
    And the connection log is captured
    When the dev client tests its connection
    And the staging client tests its connection
    Then the first connection test succeeded and the second failed with TableNotFoundError
    And the log shows the attempt and the success for VibeDigest-dev
    And the log shows the attempt and the failure for VibeDigest-staging

  @cr13 @emulator
  Scenario: Credentials never appear in logs, errors or the client's repr
    Given the table is deployed
    And AWS credentials with a secret key and a session token are in the environment
    And logging is at DEBUG, botocore included
    When the client tests its connection to the endpoint under test with those credentials
    And the client tests its connection to an unreachable endpoint with those credentials
    Then the first connection test succeeded and the second failed with EndpointUnreachableError
    And neither the secret key nor the session token appears in the logs, the errors or the client's repr
