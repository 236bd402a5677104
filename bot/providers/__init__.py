"""The provider's side: workers' actions, the queue, setting up the service, accounts, reports."""
