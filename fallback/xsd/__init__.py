"""XSDs for the Voyado XML import files engage-relay writes (package data, no code).

- ``contacts.xsd``: namespace ``http://eClub.Schemas.ImportContact``, root ``<contacts>``.
- ``transactions.xsd``: namespace ``http://voyado.Schemas.ImportReceipts``, root ``<transactions>``.
- ``promotion_redemptions.xsd``: namespace ``urn:engage-relay:promotion-redemptions:v1``,
  root ``<redemptions>`` (our own format; Voyado documents none).

Load them through ``fallback.xmlfiles.validate``; nothing here is imported directly.
"""
