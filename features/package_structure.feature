@package
Feature: The database package is laid out, declared and documented as specified
  As a developer joining VibeDigest
  I want a standard package layout, pinned dependencies and complete documentation
  So that I can install, import and use the database code without surprises

  @ds6
  Scenario: The repository follows the specified layout
    Then the repository contains
      | path                                           |
      | features/                                      |
      | src/                                           |
      | infrastructure/                                |
      | tests/                                         |
      | requirements.txt                               |
      | behave.ini                                     |
      | tox.ini                                        |
      | README.md                                      |
      | src/database/__init__.py                       |
      | src/database/client.py                         |
      | infrastructure/dynamodb.yml                    |
      | tests/features/steps/persistence_day1_steps.py |

  @im7
  Scenario: DynamoDBClient imports cleanly and connects lazily
    When a fresh Python process imports DynamoDBClient from src.database.client
    Then the import succeeds
    And constructing a client creates no boto3 client and opens no connection

  @dp8
  Scenario: Dependencies are declared and pinned
    Then every requirement in requirements.txt and tests/requirements.txt is pinned with ==
    And the requirements file requirements.txt declares boto3, moto, cfn-lint, localstack-client and PyYAML
    And the requirements file tests/requirements.txt declares behave, coverage, pytest and pytest-xdist

  @dc9
  Scenario: The documentation is complete
    Then the README has the sections
      | section                      |
      | Quick start                  |
      | Deploying to AWS             |
      | Deploying to LocalStack      |
      | Verifying in the AWS console |
      | Rollback and recovery        |
      | Configuration                |
      | Testing                      |
      | Known emulator differences   |
    And the README shows how to run "python -m src.database" and "tox"
    And every public module, class and function of src/database has a docstring and type hints
