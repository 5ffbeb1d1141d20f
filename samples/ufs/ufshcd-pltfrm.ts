/**
 * ufshcd-pltfrm: the platform glue of the UFS host driver (Linux drivers/ufs/host/
 * ufshcd-pltfrm.c): matches "jedec,ufs-2.0" (and "jedec,ufs-1.1"), maps the UFSHCI registers,
 * takes the IRQ, brings the host and the device up (ufshcd.ts) and adds one disk per logical
 * unit (ufs-sd.ts): /dev/sda, /dev/sdb...
 *
 * /sys/devices/platform/<dev>/power_info/{gear,lane,mode,rate} and
 * device_descriptor/{number_of_luns,specification_version,product_name} mirror Linux's ufs
 * sysfs groups (read-only).
 */
import {
  dev_err_probe, devm_add_action_or_reset, devm_device_add_groups, devm_ioremap_resource, DEVICE_ATTR_RO,
  dma_set_mask_and_coherent, DMA_BIT_MASK, EIO, IORESOURCE_MEM, IS_ERR, module_platform_driver, platform_get_drvdata,
  platform_get_irq, platform_get_resource, platform_set_drvdata, sysfs_emit, type PlatformDevice,
} from '../../linux-kapi/index.js';
import { ufshcd_hba_stop, ufshcd_init, type UfsHba } from './ufshcd.js';
import { ufs_sd_probe, ufs_sd_remove, type UfsScsiHost } from './ufs-sd.js';

interface UfsPriv { hba: UfsHba; host: UfsScsiHost }

function sysfsGroups(hba: UfsHba) {
  return [
    {
      name: 'power_info',
      attrs: [
        DEVICE_ATTR_RO('gear', () => sysfs_emit(`HS_GEAR${hba.power.gear}\n`)),
        DEVICE_ATTR_RO('lane', () => sysfs_emit(`${hba.power.lanes}\n`)),
        DEVICE_ATTR_RO('mode', () => sysfs_emit(`${hba.power.mode}\n`)),
        DEVICE_ATTR_RO('rate', () => sysfs_emit(`${hba.power.series}\n`)),
      ],
    },
    {
      name: 'device_descriptor',
      attrs: [
        DEVICE_ATTR_RO('number_of_luns', () => sysfs_emit(`0x${hba.device.luns.toString(16).padStart(2, '0')}\n`)),
        DEVICE_ATTR_RO('specification_version', () => sysfs_emit(`0x${hba.device.spec.toString(16).padStart(4, '0')}\n`)),
        DEVICE_ATTR_RO('product_name', () => sysfs_emit(`${hba.device.product}\n`)),
      ],
    },
  ];
}

async function ufshcd_pltfrm_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  const base = devm_ioremap_resource(dev, platform_get_resource(pdev, IORESOURCE_MEM, 0));
  if (IS_ERR(base)) return dev_err_probe(dev, base, 'cannot map the UFSHCI registers');
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return dev_err_probe(dev, irq, 'no IRQ');
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) return dev_err_probe(dev, -EIO, 'no usable DMA mask');
  const hba = await ufshcd_init(dev, base, irq);
  if (typeof hba === 'number') return dev_err_probe(dev, hba, 'host initialization failed');
  // Registered before the disks: devres runs newest first, so the disks go before the host stops.
  devm_add_action_or_reset(dev, () => ufshcd_hba_stop(hba));
  const r = await devm_device_add_groups(dev, sysfsGroups(hba));
  if (r) return dev_err_probe(dev, r, 'sysfs groups');
  const host = await ufs_sd_probe(hba);
  if (typeof host === 'number') return dev_err_probe(dev, host, 'SCSI scan failed');
  platform_set_drvdata(pdev, { hba, host } satisfies UfsPriv);
  return 0;
}

async function ufshcd_pltfrm_remove(pdev: PlatformDevice): Promise<void> {
  const priv = platform_get_drvdata<UfsPriv>(pdev);
  await ufs_sd_remove(priv.host);
}

export default module_platform_driver({
  probe: ufshcd_pltfrm_probe,
  remove: ufshcd_pltfrm_remove,
  driver: { name: 'ufshcd-pltfrm', of_match_table: [{ compatible: 'jedec,ufs-2.0' }, { compatible: 'jedec,ufs-1.1' }] },
});
