"""The curators' page: Russian HTML served at ``/`` and ``/card/{public_id}`` of a worker's web port."""
