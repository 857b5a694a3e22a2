"""The Faust edge of gospulse: ``agents.worker.build_worker`` wires the app, its state table, the
ingest and serve agents, the registry feed, routing, the HTTP views, the delivery guard and the tansu
transport."""
