UPDATE scheduled_jobs SET status = 'broken', error = %(error)s WHERE id = %(id)s
