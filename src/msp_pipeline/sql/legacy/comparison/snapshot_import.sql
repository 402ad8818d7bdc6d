-- Comparison mode: the legacy side reads the unified side's snapshot ({snapshot} is filled
-- in as a quoted literal: SET takes no bind parameters).
SET TRANSACTION SNAPSHOT {snapshot}
