-- schema lock
DECLARE @Granted int; EXEC @Granted = sp_getapplock @Resource = @P1, @LockMode = 'Exclusive', @LockOwner = 'Transaction'; IF @Granted < 0 THROW 51000, N'The DES schema lock was not granted.', 1;
GO
-- schema id
SELECT SCHEMA_ID(@P1)
GO
-- create schema
CREATE SCHEMA [dbo]
GO
-- create table crm_account
CREATE TABLE [dbo].[crm_account] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [statecode] int NULL,
    [statuscode] int NULL,
    [industrycode] int NULL,
    [donotemail] bit NULL,
    [primarycontactid] uniqueidentifier NULL,
    [primarycontactid_entitytype] nvarchar(128) NULL,
    [ownerid] uniqueidentifier NULL,
    [ownerid_entitytype] nvarchar(128) NULL,
    [revenue] decimal(38,2) NULL,
    [revenue_base] decimal(38,4) NULL,
    [accountid] uniqueidentifier NULL,
    [name] nvarchar(160) NULL,
    [description] nvarchar(max) NULL,
    [exchangerate] decimal(38,10) NULL,
    [address1_latitude] decimal(38,5) NULL,
    [numberofemployees] int NULL,
    [versionnumber] bigint NULL,
    [createdon] datetime NULL,
    [owneridtype] nvarchar(4000) NULL,
    [owneridname] nvarchar(100) NULL,
    [owneridyominame] nvarchar(100) NULL,
    CONSTRAINT [EPK[dbo]].[crm_account]]] PRIMARY KEY CLUSTERED ([Id])
)
GO
-- create table crm_systemuserroles
CREATE TABLE [dbo].[crm_systemuserroles] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [systemuserid] uniqueidentifier NULL,
    [roleid] uniqueidentifier NULL,
    [systemuserroleid] uniqueidentifier NULL,
    [versionnumber] bigint NULL,
    CONSTRAINT [EPK[dbo]].[crm_systemuserroles]]] PRIMARY KEY CLUSTERED ([Id])
)
GO
-- create table crm_DeleteLog
CREATE TABLE [dbo].[crm_DeleteLog] (
    [Id] bigint IDENTITY(1,1) NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [RecordId] nvarchar(64) NULL,
    [SinkDeleteTime] datetime NULL,
    [VersionNumber] bigint NULL,
    PRIMARY KEY CLUSTERED ([Id])
)
GO
-- catalog columns
SELECT c.[name], t.[name], c.[max_length], c.[precision], c.[scale], c.[is_nullable] FROM sys.columns AS c JOIN sys.types AS t ON t.[user_type_id] = c.[user_type_id] WHERE c.[object_id] = OBJECT_ID(@P1) ORDER BY c.[column_id]
GO
-- alter column
ALTER TABLE [dbo].[crm_account] ALTER COLUMN [name] nvarchar(300) NULL
GO
-- alter add
ALTER TABLE [dbo].[crm_account] ADD [new_score] int NULL
GO
-- metadata delete
DELETE FROM [dbo].[crm_OptionSetMetadata] WHERE [EntityName] IN (@P1, @P2)
GO
-- metadata stage
CREATE TABLE #DesStage ([c0] nvarchar(max) NULL, [c1] nvarchar(max) NULL, [c2] int NULL, [c3] bit NULL, [c4] int NULL, [c5] nvarchar(max) NULL)
GO
-- metadata insert
INSERT INTO [dbo].[crm_OptionSetMetadata] ([EntityName], [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel]) SELECT [c0], [c1], [c2], [c3], [c4], [c5] FROM #DesStage
GO
