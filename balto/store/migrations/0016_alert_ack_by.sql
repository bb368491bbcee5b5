-- Who acknowledged a red-flag alert ("Ciente"), now that admins are people: the operator or a
-- chain's gestor by name (the first acknowledgement kept, like ciente_em).
ALTER TABLE alerts ADD COLUMN ciente_por text;
