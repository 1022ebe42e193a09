"""Platform adapters: each converts its platform's events for the engine and renders its replies."""
