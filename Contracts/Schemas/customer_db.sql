-- The source system (SPEC section 2). Every statement is idempotent: applying it twice
-- leaves the same schema. The database itself is created by SourceSchema.ApplyAsync.
CREATE TABLE IF NOT EXISTS customers (
  customer_id INT NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(150) NOT NULL,
  gender ENUM('M','F','O') NULL,
  signup_date DATE NULL,
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS products (
  product_id INT NOT NULL PRIMARY KEY,
  name VARCHAR(150) NOT NULL,
  category VARCHAR(50) NULL,
  price DECIMAL(10,2) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- No foreign keys on purpose: Pipeline B's quality checks must be able to see (and reject)
-- orphan references written by a faulty upstream, as the original system's checks did.
CREATE TABLE IF NOT EXISTS transactions (
  txn_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NULL,
  product_id INT NULL,
  qty INT NULL,
  amount DECIMAL(10,2) NULL,
  txn_timestamp TIMESTAMP NULL DEFAULT NULL,
  KEY ix_transactions_customer (customer_id),
  KEY ix_transactions_timestamp (txn_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS profile_offsets (
  source VARCHAR(128) NOT NULL PRIMARY KEY,
  last_txn_id BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS txn_summary_offsets (
  source VARCHAR(128) NOT NULL PRIMARY KEY,
  last_txnid BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
