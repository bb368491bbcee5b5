-- A red-flag alert acknowledged by an admin on the Ao vivo page ("Ciente"): when, the first time.
-- Shared by every admin and instance, so one pharmacist's acknowledgement clears the banner for
-- all; who and from where is in the audit log (ack_alert).
ALTER TABLE alerts ADD COLUMN ciente_em timestamptz;
