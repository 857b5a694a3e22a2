"""What sends events to Kafka: batching (shared by every producer), publish, synthetic publics and
the simulator."""
